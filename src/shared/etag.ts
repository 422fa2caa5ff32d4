import { invalid } from './errors.js';

/**
 * The version If-Match asks for: W/"<version>" (or a strong "<version>"). Absent means "latest",
 * and so does `*`: it matches any current representation (RFC 9110 §13.1.1), so the write
 * proceeds on the latest version, and a resource that does not exist stays a 404.
 */
export function expectedVersion(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined || ifMatch === '' || ifMatch.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(ifMatch);
  if (!match) throw invalid('If-Match must be * or an entity tag such as W/"3"', [{ field: 'If-Match', message: 'must be * or look like W/"<version>"' }]);
  return Number(match[1]);
}

export const etag = (version: number) => `W/"${version}"`;
