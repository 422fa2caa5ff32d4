import { writeFileSync } from 'node:fs';
import { bytebaseInput } from './cases.js';

/** Writes cases.json (run by regenerate.sh, compiled, from the repository's root). */
writeFileSync('test/fidelity/bytebase-1.12/cases.json', `${JSON.stringify(bytebaseInput(), null, 2)}\n`);
