import { checkFilter, evaluateFilter, filterSubject, FILTER_MAX_LENGTH } from '../../../src/webhooks/filters/filter.js';
import { ACTIVITIES } from '../providers/activities.js';

/* Filters: given an expression, when an activity comes, then it passes or not; a wrong expression is refused with where and why. */

const prodStage = { id: 5, name: 'prod', status: 'FAILED' };
const failedTask = { id: 9, name: 'db-prod-2', status: 'FAILED' };
const subject = (name: keyof typeof ACTIVITIES, pipeline = {}) => filterSubject(ACTIVITIES[name], pipeline);

describe('a filter over the Custom body’s fields', () => {
  it('sends only failures of the prod stage, in one line', () => {
    const filter = 'level == "ERROR" && stage.name == "prod"';
    expect(evaluateFilter(filter, subject('stageEnded', { stage: prodStage }))).toEqual({ matched: true });
    expect(evaluateFilter(filter, subject('stageEnded', { stage: { ...prodStage, name: 'test' } }))).toEqual({ matched: false });
    expect(evaluateFilter(filter, subject('issueCreated'))).toEqual({ matched: false });
  });

  it('reads activity_type, issue.type, issue.status, project.name and the task’s status', () => {
    expect(evaluateFilter('activity_type == "bb.issue.status.update" && issue.status == "DONE"', subject('issueResolved')).matched).toBe(true);
    expect(evaluateFilter('issue.type.startsWith("bb.issue.database") && project.name == "Demo"', subject('issueCreated')).matched).toBe(true);
    expect(evaluateFilter('task.status in ["FAILED", "CANCELED"]', subject('taskCanceled', { task: failedTask })).matched).toBe(true);
    expect(evaluateFilter('task.status in ["FAILED", "CANCELED"]', subject('taskCanceled')).matched).toBe(false);
  });

  it('sees an activity with no stage or task as having empty ones (a one-line filter never fails on them)', () => {
    expect(evaluateFilter('stage.name == ""', subject('issueCreated'))).toEqual({ matched: true });
  });

  it('lets nothing through when the expression fails on an activity, saying why', () => {
    const result = evaluateFilter('1 / (issue.id - 42) == 0', subject('issueCreated'));
    expect(result.matched).toBe(false);
    expect(result.error).toMatch(/division by zero/i);
  });
});

describe('a wrong filter is refused with its position and problem', () => {
  it.each([
    ['level == ', /position \d+: /],
    ['levle == "ERROR"', /position 0: .*levle/],
    ['level == 1', /position \d+: /],
    ['issue.name', /true or false/],
    ['', /position 0: the expression is empty/],
  ])('%j', (filter, message) => {
    const [error] = checkFilter(filter);
    expect(error.field).toBe('filter');
    expect(error.message).toMatch(message);
  });

  it('names the position of a syntax error', () => {
    expect(checkFilter('level == "ERROR" && && true')[0].message).toBe('at position 20: Unexpected token: AND');
  });

  it('bounds the cost: a long expression, or one nesting too deep or too large, is refused before it runs', () => {
    expect(checkFilter(`level == "${'x'.repeat(FILTER_MAX_LENGTH)}"`)[0].message).toMatch(/at most 1000 characters/);
    const huge = `[${Array.from({ length: 60 }, (_, i) => i).join(', ')}].size() > 0`;
    expect(checkFilter(huge)).toHaveLength(1);
    const deep = `${'('.repeat(40)}true${')'.repeat(40)}`;
    expect(checkFilter(deep)).toHaveLength(1);
  });

  it('accepts no filter, and a good one', () => {
    expect(checkFilter(undefined)).toEqual([]);
    expect(checkFilter(null)).toEqual([]);
    expect(checkFilter('level != "INFO"')).toEqual([]);
  });
});
