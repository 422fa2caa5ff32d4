import { describeResponse, isSuccess, jsonObject, retryAfterOf } from '../providers/judging.js';
import type { ProviderResponse } from '../providers/provider.js';
import type { AccessToken, Reading } from './messenger.js';

/* What the vendors' APIs share in their answers: HTTP statuses before their own codes. */

/**
 * The HTTP status's reading when it settles it (undefined when the body's code must): 429 and 5xx
 * are transient (Retry-After honoured), 401 is an expired or invalid token, another non-2xx means
 * the call cannot work (the app's configuration): the channel then mentions the person.
 */
export function readStatus(response: ProviderResponse, now: Date): Reading<never> | undefined {
  const { status } = response;
  if (status === 429 || status >= 500) {
    const notBefore = retryAfterOf(response, now);
    return notBefore ? { kind: 'retry', reason: describeResponse(response), notBefore } : { kind: 'retry', reason: describeResponse(response) };
  }
  if (status === 401) return { kind: 'token-expired', reason: describeResponse(response) };
  if (!isSuccess(status)) return { kind: 'unreachable', reason: describeResponse(response) };
  return undefined;
}

/** The body as a JSON object, or (unreadable: a proxy's page, a cut body) a transient reading. */
export function bodyOf(response: ProviderResponse): { json: Record<string, unknown> } | { reading: Reading<never> } {
  const json = jsonObject(response.body);
  return json ? { json } : { reading: { kind: 'retry', reason: `${describeResponse(response)} (not the API's JSON)` } };
}

/** The status's reading, else the body's (or why it could not be read). */
export function readAnswer(response: ProviderResponse, now: Date): { json: Record<string, unknown> } | { reading: Reading<never> } {
  const status = readStatus(response, now);
  return status ? { reading: status } : bodyOf(response);
}

export const ok = <T>(value: T): Reading<T> => ({ kind: 'ok', value });

/**
 * A token endpoint's reading as an access token: an "expired" answer there means the credentials
 * themselves are refused (the channel mentions the person); an answer without the token is
 * transient; a lifetime not stated is taken as `defaultSeconds`.
 */
export function accessTokenOf(
  read: Reading<Record<string, unknown>>,
  response: ProviderResponse,
  now: Date,
  what: string,
  fields: { token: string; expiresIn: string; defaultSeconds: number },
): Reading<AccessToken> {
  if (read.kind !== 'ok') return read.kind === 'token-expired' ? { kind: 'unreachable', reason: read.reason } : read;
  const token = read.value[fields.token];
  const expires = Number(read.value[fields.expiresIn]);
  if (typeof token !== 'string' || !token) return { kind: 'retry', reason: `${what}: ${describeResponse(response)} (no token)` };
  return ok({ token, expiresAt: now.getTime() + (Number.isFinite(expires) && expires > 0 ? expires : fields.defaultSeconds) * 1000 });
}
