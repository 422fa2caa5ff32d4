import { issueSlug } from '../../issues/issue.rules.js';
import { MAX_MENTIONS } from '../activity-mapping.js';
import { ACTIVITY_LEVELS, type Activity, type ActivityLevel, type Mention, type MetaLine, type Person } from '../activity.js';
import type { ProviderAdapter, WebhookTarget } from '../providers/provider.js';

/** The mark of each level on a digest line (text, so every room shows it). */
export const LEVEL_MARK: Record<ActivityLevel, string> = { INFO: '•', SUCCESS: '✅', WARN: '⚠️', ERROR: '❗' };

export interface DigestContext {
  brand: string;
  externalUrl: string;
  bot: Person;
  /** The provider the digest is rendered for: as many lines as its size limits take. */
  provider: ProviderAdapter;
}

/**
 * One message for several activities (in event order): a summary title, one line per
 * activity (level mark and title, its link as the value), as many as the provider's size
 * limits take, and a last line with the count and a link to all of them (so a window that
 * overflows says how many more there are and where to see them).
 */
export function digestActivity(activities: Activity[], ctx: DigestContext): Activity {
  const first = activities[0];
  const issues = new Set(activities.map((a) => a.issue?.id ?? 0));
  const oneIssue = issues.size === 1 && first.issue !== null;
  const n = activities.length;
  const title = oneIssue ? `${n} updates on "${first.issue!.name}"` : `${n} updates in ${first.project.name}`;
  const link = oneIssue ? first.link.replace(/[?#].*$/, '') : `${ctx.externalUrl}/project/${issueSlug(first.project.name, first.project.id)}`;
  const lines: MetaLine[] = activities.map((a) => ({ name: `${LEVEL_MARK[a.level]} ${a.title}`, value: a.link }));
  const last = (shown: number): MetaLine =>
    shown < n ? { name: 'More', value: `${n - shown} more of ${n} updates: ${link}` } : { name: 'All', value: `${n} updates: ${link}` };
  const worst = activities.reduce<ActivityLevel>((level, a) => (ACTIVITY_LEVELS.indexOf(a.level) > ACTIVITY_LEVELS.indexOf(level) ? a.level : level), 'INFO');
  const mentions = new Map<number, Mention>();
  for (const a of activities) for (const m of a.mentions ?? []) if (mentions.size < MAX_MENTIONS) mentions.set(m.id, m);
  const digest = (shown: number): Activity => ({
    type: first.type,
    level: worst,
    title,
    description: '',
    link,
    actor: ctx.bot,
    createdTs: activities[n - 1].createdTs,
    project: first.project,
    issue: oneIssue ? first.issue : null,
    meta: [...lines.slice(0, shown), last(shown)],
    ...(mentions.size > 0 ? { mentions: [...mentions.values()] } : {}),
  });
  // the most lines with which the provider sends every line and every link whole (a cut would drop or shorten some)
  const fits = (shown: number) => {
    const body = render(ctx, digest(shown));
    return [...new Set([...lines.slice(0, shown).map((l) => l.value), last(shown).value])].every((value) => body.includes(value));
  };
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return digest(lo);
}

const PROBE: Omit<WebhookTarget, 'type'> = { id: 0, name: 'digest', url: 'https://digest.invalid/', signingSecrets: [], headers: {} };

function render(ctx: DigestContext, activity: Activity): string {
  return ctx.provider.render(activity, { ...PROBE, type: ctx.provider.type }, { now: new Date(0), brand: ctx.brand, deliveryId: 'digest', version: '0' }).body;
}
