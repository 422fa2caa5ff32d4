import { invalid } from './errors.js';

/** Parses If-Match: W/"<version>" (or a strong "<version>"). Absent means "latest". */
export function expectedVersion(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined || ifMatch === '') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(ifMatch);
  if (!match) throw invalid('If-Match must be an entity tag such as W/"3"', [{ field: 'If-Match', message: 'must look like W/"<version>"' }]);
  return Number(match[1]);
}

export const etag = (version: number) => `W/"${version}"`;
