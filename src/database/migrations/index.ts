import { InitialSchema1764000000000 } from './1764000000000-initial-schema.js';

/** Every migration, in order. Listed explicitly (no globs) so ESM builds and tests load the same classes. */
export const migrations = [InitialSchema1764000000000];
