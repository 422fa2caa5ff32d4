import { readFileSync } from 'node:fs';
import type { Activity, Person } from '../../../src/webhooks/activity.js';
import { testActivity } from '../../../src/webhooks/activity-mapping.js';
import { mapStream, ORACLE_CONFIG, type MappedEvent, type StoredEvent } from '../stream-activities.js';

/*
 * The oracle's cases: every activity of stream.json (Herald's own log, recorded over REST by
 * record-stream.mjs) twice: as Herald maps it, and as the rows Bytebase 1.12 would have read for
 * the same event (its activity row, the issue, the updater, the task), which the Go harness turns
 * into Bytebase's webhook context and posts with Bytebase's own code. cases.json holds the second
 * half: regenerate.sh writes it from here, and the oracle test checks it is still what the stream
 * gives.
 */

const folder = 'test/fidelity/bytebase-1.12';

/** The time the messages are sent (Bytebase's `created_ts`; Herald's render time). */
export const SENT_AT = new Date('2026-12-07T09:00:00.000Z');

/** The webhook the test message is sent for: its name is Go-quoted by Bytebase. */
export const ORACLE_WEBHOOK = { id: 11, name: 'slack "alerts" 通知' };

/** Names whose slugs are compared with gosimple/slug's: every script Herald's users may name an issue in. */
export const SLUG_NAMES = [
  'Add index: users',
  '<b>x</b> *y* @all 索引 & "q"',
  'インデックスを追加',
  'Добавить индекс',
  '인덱스 추가',
  'Ελληνικά ονόματα',
  'إضافة فهرس',
  'הוספת אינדקס',
  'Thêm chỉ mục',
  'Straße für Ærøskøbing',
  'O’Brien’s “fix” — v2 – final',
  'café_au_lait 50% off',
  '🚀 deploy 🎉',
  '   ',
];

/** A row of Bytebase 1.12's database, as the harness reads it (harness/mapping.go). */
export interface BytebaseCase {
  name: string;
  activity?: { id: number; type: string; comment: string; payload: Record<string, unknown> };
  updater: Person;
  issue?: { id: number; name: string; status: string; type: string; description: string; projectId: number; projectName: string };
  task?: { name: string; status: string; skipped: boolean; skippedReason: string; runDetail: string };
  test?: { webhookId: number; webhookName: string; projectId: number; projectName: string };
}

export interface BytebaseInput {
  _about: string;
  externalUrl: string;
  sentTs: number;
  users: Record<string, Person>;
  slugNames: string[];
  cases: BytebaseCase[];
}

export interface OracleCase {
  name: string;
  herald: Activity;
  bytebase: BytebaseCase;
}

export function streamEvents(): StoredEvent[] {
  return JSON.parse(readFileSync(`${folder}/stream.json`, 'utf8')).events;
}

/** The seed's six activity types: the only ones Bytebase 1.12 posted. */
const SEED_TYPES = new Set(['bb.issue.create', 'bb.issue.comment.create', 'bb.issue.field.update', 'bb.issue.status.update', 'bb.pipeline.stage.status.update', 'bb.pipeline.task.status.update']);
const FIELD_IDS: Record<string, string> = { name: '1', assigneeId: '3', description: '4' };

/** What Bytebase 1.12's tables would hold for the same event. */
function bytebaseRows(name: string, m: MappedEvent): BytebaseCase {
  const { event, after, project } = m;
  const person = (id: number): Person => {
    const p = id === 1 ? { id: 1, name: ORACLE_CONFIG.brand, email: ORACLE_CONFIG.botEmail } : m.people.get(id)!;
    return { id: p.id, name: p.name, email: p.email };
  };
  const issue = { id: after.id, name: after.name, status: after.status, type: after.type, description: after.description, projectId: project.id, projectName: project.name };
  const row = (type: string, payload: Record<string, unknown> = {}, comment = '', id = 0, updater = person(event.metadata.actorId)) => ({
    name,
    activity: { id, type, comment, payload },
    updater,
    issue,
  });
  const d = event.data as any;
  switch (event.type) {
    case 'issue.created':
      return row('bb.issue.create');
    case 'issue.status-changed':
      return row('bb.issue.status.update', {}, d.comment ?? '');
    case 'issue.comment-created':
      // the link's anchor is the activity's id: the comment's, here
      return row('bb.issue.comment.create', {}, d.content, d.commentId);
    case 'issue.field-updated': {
      const value = (v: unknown) => (v === null || v === undefined ? '' : String(v));
      return row('bb.issue.field.update', { fieldId: FIELD_IDS[d.field], oldValue: value(d.from), newValue: value(d.to) });
    }
    case 'issue.stage-status-changed': {
      const stage = after.stages.find((s) => s.id === d.stageId)!;
      // the scheduler writes stage activities as the System Bot
      return row('bb.pipeline.stage.status.update', { stageId: d.stageId, stageStatusUpdateType: d.change, stageName: stage.name }, '', 0, person(1));
    }
    case 'issue.task-status-changed': {
      const task = after.stages.flatMap((s) => s.tasks).find((t) => t.id === d.taskId)!;
      // a failure is the runner's: its detail is the task run's result, and the activity has no comment
      const failed = d.to === 'FAILED';
      return {
        ...row('bb.pipeline.task.status.update', { taskId: d.taskId, oldStatus: d.from, newStatus: d.to }, failed ? '' : (d.comment ?? '')),
        task: { name: task.name, status: task.status, skipped: task.skipped, skippedReason: task.skippedReason ?? '', runDetail: failed ? (d.comment ?? '') : '' },
      };
    }
    default:
      throw new Error(`${name}: ${event.type} has no Bytebase 1.12 activity`);
  }
}

/** A case's name, from its event alone (not from either mapping, so that a changed title is a difference, not a new case). */
function caseName({ event }: MappedEvent): string {
  const d = event.data as any;
  const what: Record<string, () => string> = {
    'issue.status-changed': () => ` ${d.from}→${d.to}`,
    'issue.field-updated': () => ` ${d.field} ${d.from === null ? 'set' : d.to === null ? 'removed' : 'changed'}`,
    'issue.stage-status-changed': () => ` stage ${d.stageId} ${d.change}`,
    'issue.task-status-changed': () => ` task ${d.taskId} ${d.from}→${d.to}${d.skipped ? ' (skipped)' : ''}`,
  };
  return `issue ${d.issueId}: ${event.type}${what[event.type]?.() ?? ''}`;
}

/** Every case: Herald's activity for each seed activity of the stream, then the test message; each with Bytebase's rows. */
export function oracleCases(): OracleCase[] {
  const mapped = mapStream(streamEvents()).filter((m) => m.activity !== null && SEED_TYPES.has(m.activity.type));
  const cases = mapped.map((m, i) => {
    const name = `${String(i + 1).padStart(2, '0')} ${caseName(m)}`;
    return { name, herald: m.activity!, bytebase: bytebaseRows(name, m) };
  });
  const project = mapped[0].project;
  const bot = { id: 1, name: ORACLE_CONFIG.brand, email: ORACLE_CONFIG.botEmail };
  cases.push({
    name: 'test message',
    herald: testActivity(ORACLE_WEBHOOK.name, project, { ...ORACLE_CONFIG, bot, now: SENT_AT }),
    bytebase: { name: 'test message', updater: bot, test: { webhookId: ORACLE_WEBHOOK.id, webhookName: ORACLE_WEBHOOK.name, projectId: project.id, projectName: project.name } },
  });
  return cases;
}

/** cases.json: the harness's input. */
export function bytebaseInput(): BytebaseInput {
  const users: Record<string, Person> = {};
  for (const m of mapStream(streamEvents())) for (const [id, p] of m.people) users[id] = { id: p.id, name: p.name, email: p.email };
  return {
    _about: 'Written by regenerate.sh from stream.json (cases.ts): the rows Bytebase 1.12 would read for each activity; harness/ posts them with Bytebase 1.12.0’s webhook package.',
    externalUrl: ORACLE_CONFIG.externalUrl,
    sentTs: Math.floor(SENT_AT.getTime() / 1000),
    users,
    slugNames: SLUG_NAMES,
    cases: oracleCases().map((c) => c.bytebase),
  };
}
