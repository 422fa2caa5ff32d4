import type { Activity } from '../../../src/webhooks/activity.js';
import { digestActivity } from '../../../src/webhooks/coalesce/digest.js';
import { checkCoalesce, windowGate, windowMs } from '../../../src/webhooks/coalesce/window.js';
import { PROVIDERS, WEBHOOK_TYPES } from '../../../src/webhooks/providers/registry.js';
import { ACTIVITIES, bot, ctx, hook } from '../providers/activities.js';

/* Coalescing: given when a webhook's last message went, when more come due, then they go now or at the window's end; and what one message of many says. */

const S = 1000;

describe('the coalescing window', () => {
  it('is a minute for DingTalk and WeCom by default, off for the others, never on for Custom', () => {
    expect(windowMs({ type: 'DINGTALK' })).toBe(60 * S);
    expect(windowMs({ type: 'WECOM' })).toBe(60 * S);
    expect(windowMs({ type: 'SLACK' })).toBe(0);
    expect(windowMs({ type: 'SLACK', coalesce: { windowSeconds: 30 } })).toBe(30 * S);
    expect(windowMs({ type: 'DINGTALK', coalesce: { windowSeconds: 0 } })).toBe(0);
    expect(windowMs({ type: 'CUSTOM', coalesce: { windowSeconds: 30 } })).toBe(0);
  });

  it('refuses a window on a Custom webhook (its body is one activity)', () => {
    expect(checkCoalesce('CUSTOM', { windowSeconds: 30 })).toEqual([{ field: 'coalesce.windowSeconds', message: expect.stringContaining('CUSTOM') }]);
    expect(checkCoalesce('CUSTOM', { windowSeconds: 0 })).toEqual([]);
    expect(checkCoalesce('WECOM', { windowSeconds: 30 })).toEqual([]);
  });

  it('sends the first message after a quiet window at once', () => {
    expect(windowGate(undefined, 1000 * S, 60 * S)).toEqual({ kind: 'send' });
    expect(windowGate(900 * S, 1000 * S, 60 * S)).toEqual({ kind: 'send' });
  });

  it('holds what comes due within the window until its end', () => expect(windowGate(990 * S, 1000 * S, 60 * S)).toEqual({ kind: 'wait', until: 1050 * S }));

  it('never holds anything when off', () => expect(windowGate(999 * S, 1000 * S, 0)).toEqual({ kind: 'send' }));
});

const task = (n: number, level: Activity['level'] = 'SUCCESS', title = `Task completed - db-${n}`): Activity => ({ ...ACTIVITIES.taskCanceled, level, title, link: `${ACTIVITIES.taskCanceled.link}?task=${n}` });
const context = (type: (typeof WEBHOOK_TYPES)[number]) => ({ brand: 'Bytebase', externalUrl: 'https://herald.example.com', bot, provider: PROVIDERS[type] });

describe('one message for a window’s activities', () => {
  it('sums up one issue’s updates, one line per activity with its level mark and link', () => {
    const digest = digestActivity([task(1), task(2, 'ERROR', 'Task failed - db-2')], context('DINGTALK'));
    expect(digest.title).toBe('2 updates on "Add index: users"');
    expect(digest.level).toBe('ERROR');
    expect(digest.link).toBe('https://herald.example.com/issue/add-index-users-42');
    expect(digest.meta).toEqual([
      { name: '✅ Task completed - db-1', value: `${ACTIVITIES.taskCanceled.link}?task=1` },
      { name: '❗ Task failed - db-2', value: `${ACTIVITIES.taskCanceled.link}?task=2` },
      { name: 'All', value: '2 updates: https://herald.example.com/issue/add-index-users-42' },
    ]);
  });

  it('sums up updates across issues as the project’s, linking to the project', () => {
    const other = { ...task(3), issue: { ...ACTIVITIES.issueCreated.issue!, id: 43, name: 'Other' } };
    const digest = digestActivity([task(1), other], context('SLACK'));
    expect(digest.title).toBe('2 updates in Demo');
    expect(digest.link).toBe('https://herald.example.com/project/demo-7');
    expect(digest.issue).toBeNull();
  });

  it.each(WEBHOOK_TYPES.filter((t) => t !== 'CUSTOM'))('fits %s’s size limits: an overflowing window says how many more and links to them', (type) => {
    const many = Array.from({ length: 300 }, (_, i) => task(i, 'INFO', `Task completed - ${'a very long task name '.repeat(4)}${i}`));
    const digest = digestActivity(many, context(type));
    const shown = digest.meta.length - 1;
    expect(shown).toBeGreaterThan(3);
    expect(shown).toBeLessThan(300);
    expect(digest.meta.at(-1)).toEqual({ name: 'More', value: `${300 - shown} more of 300 updates: https://herald.example.com/issue/add-index-users-42` });
    // the provider sends it whole: every shown line's link and the count
    const body = PROVIDERS[type].render(digest, hook(type), ctx).body;
    expect(body).toContain(`${300 - shown} more of 300 updates`);
    for (const line of digest.meta) expect(body).toContain(line.value);
  });
});
