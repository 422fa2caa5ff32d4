import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres } from '../engine.js';
import { maskUrlKeeping } from '../../shared/url-mask.js';

const PAGE = 1000;

type WebhookType = string;

/**
 * The providers' public path prefixes as they were when this migration was written: a
 * migration is frozen, so it does not follow the provider registry as it changes.
 */
const PUBLIC_PATH_PREFIXES: Record<WebhookType, readonly string[]> = {
  SLACK: ['/services/'],
  DISCORD: ['/api/webhooks/'],
  TEAMS: ['/webhookb2/', '/workflows/', '/powerautomate/automations/direct/workflows/'],
  DINGTALK: ['/robot/send'],
  FEISHU: ['/open-apis/bot/v2/hook/'],
  LARK: ['/open-apis/bot/v2/hook/'],
  WECOM: ['/cgi-bin/webhook/send'],
  GOOGLE_CHAT: ['/v1/spaces/'],
};

const maskUrl = (raw: string, type?: WebhookType) => maskUrlKeeping(raw, type ? PUBLIC_PATH_PREFIXES[type] : undefined);

/**
 * - read_model_versions: which READ_MODELS_VERSION (see ProjectionRebuilder) built the read
 *   models. Version 1 is everything before it: the first start after this migration rebuilds
 *   them from the log, through the upcasters of that version (URL masks, nulls).
 * - Webhook URL masks made by the old rule (scheme, host and first path segment, where a
 *   token may sit) are masked again by the rule of this version (maskUrlKeeping: idempotent on a masked URL, and it
 *   keeps no more than scheme, host and the provider's fixed prefix) wherever they are stored:
 *   - in the log, in the `urlMasked` of webhook.created and webhook.updated events of schema
 *     version 1. The only rewrite of the log: a display field, derived from the sealed URL,
 *     that leaked a credential; nothing a decision reads. The upcasters give the same masks
 *     on read (for exports made before), and nulls are left to them;
 *   - in rm_webhooks (rebuilt at the next start anyway: masked here too, so no copy survives
 *     a start that stops early);
 *   - in the requests recorded with each delivery attempt (operational rows, never rebuilt),
 *     with the webhook's type when its row still says it.
 */
export class ReadModelVersions1764300000000 implements MigrationInterface {
  name = 'ReadModelVersions1764300000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = isPostgres(q);
    await q.query(`CREATE TABLE read_model_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL, rebuilt_at TEXT)`);
    await q.query(`INSERT INTO read_model_versions (name, version, rebuilt_at) VALUES ('read-models', 1, NULL)`);

    const p = (n: number) => (pg ? `$${n}` : '?');
    const json = <T>(value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value) as T;

    const events = (await q.query(`SELECT position, type, data FROM events WHERE type IN ('webhook.created', 'webhook.updated') AND schema_version = 1`)) as { position: number | string; type: string; data: unknown }[];
    for (const row of events) {
      const data = json<{ type?: WebhookType; urlMasked?: unknown; changes?: { urlMasked?: unknown } }>(row.data);
      const holder = row.type === 'webhook.created' ? data : data.changes;
      if (!holder || typeof holder.urlMasked !== 'string') continue;
      const masked = maskUrl(holder.urlMasked, row.type === 'webhook.created' ? data.type : undefined);
      if (masked === holder.urlMasked) continue;
      holder.urlMasked = masked;
      await q.query(`UPDATE events SET data = ${p(1)} WHERE position = ${p(2)}`, [JSON.stringify(data), row.position]);
    }

    const types = new Map<string, WebhookType>();
    for (const row of (await q.query(`SELECT id, config FROM rm_webhooks`)) as { id: number | string; config: string }[]) {
      const config = JSON.parse(row.config) as { type: WebhookType; urlMasked?: unknown };
      types.set(String(row.id), config.type);
      if (typeof config.urlMasked !== 'string') continue;
      const masked = maskUrl(config.urlMasked, config.type);
      if (masked !== config.urlMasked) await q.query(`UPDATE rm_webhooks SET config = ${p(1)} WHERE id = ${p(2)}`, [JSON.stringify({ ...config, urlMasked: masked }), row.id]);
    }
    let after = { deliveryId: '', number: 0 };
    for (;;) {
      const rows = (await q.query(
        `SELECT a.delivery_id, a.number, a.request, d.webhook_id FROM webhook_delivery_attempts a LEFT JOIN webhook_deliveries d ON d.id = a.delivery_id
         WHERE a.delivery_id > ${p(1)} OR (a.delivery_id = ${p(2)} AND a.number > ${p(3)}) ORDER BY a.delivery_id, a.number LIMIT ${PAGE}`,
        [after.deliveryId, after.deliveryId, after.number],
      )) as { delivery_id: string; number: number; request: string; webhook_id: number | string | null }[];
      if (rows.length === 0) break;
      for (const row of rows) {
        const request = JSON.parse(row.request) as { url?: unknown };
        if (typeof request.url !== 'string') continue;
        const masked = maskUrl(request.url, row.webhook_id === null ? undefined : types.get(String(row.webhook_id)));
        if (masked === request.url) continue;
        await q.query(`UPDATE webhook_delivery_attempts SET request = ${p(1)} WHERE delivery_id = ${p(2)} AND number = ${p(3)}`, [
          JSON.stringify({ ...request, url: masked }),
          row.delivery_id,
          row.number,
        ]);
      }
      const last = rows[rows.length - 1];
      after = { deliveryId: last.delivery_id, number: Number(last.number) };
    }
  }

  async down(q: QueryRunner): Promise<void> {
    // the masks stay as they are: the old ones showed what they should not have
    await q.query(`DROP TABLE read_model_versions`);
  }
}
