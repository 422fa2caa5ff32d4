import { readFileSync } from 'node:fs';
import { PROVIDERS, WEBHOOK_TYPES, type WebhookType } from '../../src/webhooks/providers/registry.js';
import { NOW, response } from '../webhooks/providers/activities.js';

/*
 * The verdict table of docs/fidelity.md, checked both ways: the Herald column is what Herald's judge
 * says, and the Bytebase column is what Bytebase 1.12's rule says (HTTP 200 and the provider's
 * success body, read as Go's encoding/json read it into its response struct; anything else an error,
 * retried for 5 minutes, then dropped).
 */

interface Row {
  provider: WebhookType;
  status: number;
  body: string;
  bytebase: string;
  herald: string;
}

function rows(): Row[] {
  const doc = readFileSync('docs/fidelity.md', 'utf8');
  const table = doc.slice(doc.indexOf('## Verdicts'));
  return [...table.matchAll(/^\| ([A-Z_]+) \| (\d{3}) \| (?:`([^`]*)`)? \| ([^|]+) \| ([^|]+) \|/gm)].map((m) => ({
    provider: m[1] as WebhookType,
    status: Number(m[2]),
    body: m[3] ?? '',
    bytebase: m[4].trim(),
    herald: m[5].trim(),
  }));
}

/** Go's json.Unmarshal of `body` into a struct with an int field `field`: its value, or 'error'. */
function goInt(body: string, field: string): number | 'error' {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'error';
  }
  if (value === null) return 0;
  if (typeof value !== 'object' || Array.isArray(value)) return 'error';
  const code = (value as Record<string, unknown>)[field];
  if (code === undefined || code === null) return 0;
  return typeof code === 'number' && Number.isInteger(code) ? code : 'error';
}

/** Bytebase 1.12's success rule per provider (plugin/webhook/*.go at tag 1.12.0), given HTTP 200. */
const BYTEBASE_SUCCESS: Record<string, (body: string) => boolean> = {
  SLACK: (body) => body === 'ok',
  DISCORD: (body) => goInt(body, 'code') === 0,
  TEAMS: (body) => body === '1',
  DINGTALK: (body) => goInt(body, 'errcode') === 0,
  FEISHU: (body) => goInt(body, 'code') === 0,
  WECOM: (body) => goInt(body, 'errcode') === 0,
  CUSTOM: (body) => goInt(body, 'code') === 0,
};

function bytebase(row: Row): string {
  return row.status === 200 && BYTEBASE_SUCCESS[row.provider]?.(row.body) ? 'delivered' : 'retried, then dropped';
}

function herald(row: Row): string {
  const verdict = PROVIDERS[row.provider].judge(response(row.status, row.body), { now: NOW });
  return verdict.kind === 'failed' && verdict.disable ? 'failed, disables' : verdict.kind;
}

const table = rows();

it('has a row for every provider Bytebase 1.12 knew, and only known providers', () => {
  expect(table.length).toBeGreaterThanOrEqual(30);
  for (const row of table) expect(WEBHOOK_TYPES).toContain(row.provider);
  expect(new Set(table.map((r) => r.provider))).toEqual(new Set(Object.keys(BYTEBASE_SUCCESS)));
});

it.each(table.map((row) => [`${row.provider} ${row.status} ${row.body || '(empty)'}`, row] as const))('%s: the table says what Herald and Bytebase 1.12 do', (_name, row) => {
  expect({ bytebase: row.bytebase, herald: row.herald }).toEqual({ bytebase: bytebase(row), herald: herald(row) });
});
