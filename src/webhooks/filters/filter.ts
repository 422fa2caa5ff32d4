import { Environment } from '@marcbachmann/cel-js';
import { MAX_TEXT } from '../../issues/dto/issue.dto.js';
import type { FieldError } from '../../shared/errors.js';
import type { Activity } from '../activity.js';
import { BudgetExceeded, FILTER_BUDGET, Meter } from './budget.js';
import { metered, meterEnvironment, meterRoot } from './metered-evaluation.js';
import { worstCaseProblem, type Bound } from './worst-case-cost.js';

/**
 * Webhook filters: one CEL expression (Common Expression Language, as in Kubernetes and
 * Google's APIs) over the fields of the Custom body, plus the stage and task of pipeline
 * activities. CEL has no loops, no I/O and no way out of its variables: it is evaluated by
 * a sandboxed interpreter (no `eval`). Its cost is bounded twice (budget.ts): an expression
 * that could exceed the budget on the largest activity is refused where it is saved, and
 * every evaluation is metered, so one saved before that check, or evaluated on a value
 * larger than foreseen, stops at the budget and its activity is filtered, saying so.
 * `matches()` is RE2 (linear time), as CEL's specification says.
 */
export const FILTER_MAX_LENGTH = 1000;
const LIMITS = { maxAstNodes: 200, maxDepth: 32, maxListElements: 50, maxMapEntries: 50, maxCallArguments: 8 };

/** What a filter sees: the Custom body's fields, and `stage`/`task` ('' when the activity has none). */
export interface FilterSubject {
  level: string;
  activity_type: string;
  title: string;
  description: string;
  creator_id: number;
  creator_name: string;
  issue: { id: number; name: string; status: string; type: string };
  project: { id: number; name: string };
  stage: { id: number; name: string; status: string };
  task: { id: number; name: string; status: string };
}

const PART = { id: 'int', name: 'string', status: 'string' } as const;
const environment = new Environment({ limits: LIMITS })
  .registerVariable('level', 'string')
  .registerVariable('activity_type', 'string')
  .registerVariable('title', 'string')
  .registerVariable('description', 'string')
  .registerVariable('creator_id', 'int')
  .registerVariable('creator_name', 'string')
  .registerVariable({ name: 'issue', schema: { id: 'int', name: 'string', status: 'string', type: 'string' } })
  .registerVariable({ name: 'project', schema: { id: 'int', name: 'string' } })
  .registerVariable({ name: 'stage', schema: PART })
  .registerVariable({ name: 'task', schema: PART });
meterEnvironment(environment);

/**
 * The largest value of each variable (UTF-16 code units of text; a description or comment
 * may hold MAX_TEXT characters, each of up to two units), over which an expression's worst
 * case is bounded before it is saved.
 */
const NAME: Bound = { size: 200 };
const STATUS: Bound = { size: 32 };
const PART_BOUND: Bound = { size: 3, fields: { id: { size: 0 }, name: NAME, status: STATUS } };
export const FILTER_VARIABLE_BOUNDS: Record<string, Bound> = {
  level: { size: 16 },
  activity_type: { size: 64 },
  title: { size: 1000 },
  description: { size: 2 * MAX_TEXT, chars: MAX_TEXT },
  creator_id: { size: 0 },
  creator_name: NAME,
  issue: { size: 4, fields: { id: { size: 0 }, name: NAME, status: STATUS, type: { size: 64 } } },
  project: { size: 2, fields: { id: { size: 0 }, name: NAME } },
  stage: PART_BOUND,
  task: PART_BOUND,
};

/** The variables a filter may use, for documentation and error messages. */
export const FILTER_VARIABLES = ['level', 'activity_type', 'title', 'description', 'creator_id', 'creator_name', 'issue.id', 'issue.name', 'issue.status', 'issue.type', 'project.id', 'project.name', 'stage.id', 'stage.name', 'stage.status', 'task.id', 'task.name', 'task.status'];

export interface FilterProblem {
  /** 0-based offset of the problem in the expression. */
  position: number;
  message: string;
}

type Compiled = { evaluate: (subject: FilterSubject) => boolean; ast: unknown };
const compiled = new Map<string, Compiled | FilterProblem>();

interface CelLikeError {
  range?: { start: number };
  summary?: string;
  message: string;
}

/** Parses and type-checks an expression (cached): a function to evaluate it, or where and why it is wrong. */
export function compileFilter(source: string): Compiled | FilterProblem {
  const known = compiled.get(source);
  if (known) return known;
  const result = compileUncached(source);
  if (compiled.size > 1000) compiled.clear();
  compiled.set(source, result);
  return result;
}

function compileUncached(source: string): Compiled | FilterProblem {
  if (source.length > FILTER_MAX_LENGTH) return { position: FILTER_MAX_LENGTH, message: `an expression may have at most ${FILTER_MAX_LENGTH} characters` };
  if (source.trim() === '') return { position: 0, message: 'the expression is empty' };
  try {
    const parsed = environment.parse(source);
    const checked = parsed.check();
    if (!checked.valid) return problemOf(checked.error as unknown as CelLikeError);
    if (checked.type !== 'bool') return { position: 0, message: `the expression must give true or false, not a ${String(checked.type)}` };
    meterRoot(parsed.ast);
    return { evaluate: (subject) => parsed(celContext(subject)) === true, ast: parsed.ast };
  } catch (error) {
    return problemOf(error as CelLikeError);
  }
}

function problemOf(error: CelLikeError): FilterProblem {
  return { position: error.range?.start ?? 0, message: error.summary ?? error.message.split('\n')[0] };
}

export const isProblem = (value: Compiled | FilterProblem): value is FilterProblem => !('evaluate' in value);

/**
 * Where and why an expression cannot be saved: it does not parse or check, or it could
 * exceed the budget on the largest activity (or takes a pattern that is not RE2, or not a literal).
 */
export function filterProblem(source: string): FilterProblem | undefined {
  const result = compileFilter(source);
  if (isProblem(result)) return result;
  return worstCaseProblem(result.ast, FILTER_VARIABLE_BOUNDS);
}

/** The 400 field errors of a filter given on input (none when it is fine or absent). */
export function checkFilter(source: string | null | undefined): FieldError[] {
  if (source === undefined || source === null) return [];
  const problem = filterProblem(source);
  return problem ? [{ field: 'filter', message: `at position ${problem.position}: ${problem.message}` }] : [];
}

/** Whether an activity passed, and why not if the filter failed on it. */
export interface FilterOutcome {
  matched: boolean;
  error?: string;
}

/** What the decisions route and the console say of an activity whose filter ran out of budget. */
export const BUDGET_EXCEEDED = 'the filter exceeded its budget';

/**
 * Whether the activity passes the filter; an expression that fails on this activity, or
 * runs out of budget, lets nothing through, saying why.
 */
export function evaluateFilter(source: string, subject: FilterSubject, budget = FILTER_BUDGET): FilterOutcome {
  return measureFilter(source, subject, budget).outcome;
}

/** evaluateFilter, with the steps the evaluation used (for "try it" and the benchmark). */
export function measureFilter(source: string, subject: FilterSubject, budget = FILTER_BUDGET): { outcome: FilterOutcome; steps: number } {
  const filter = compileFilter(source);
  if (isProblem(filter)) return { outcome: { matched: false, error: `at position ${filter.position}: ${filter.message}` }, steps: 0 };
  const meter = new Meter(budget);
  try {
    const matched = metered(meter, () => filter.evaluate(subject));
    // an error cel-js absorbed (`||`, `exists`) may hide the budget's end: the evaluation stopped all the same
    return { outcome: meter.exhausted ? { matched: false, error: BUDGET_EXCEEDED } : { matched }, steps: meter.used };
  } catch (error) {
    if (error instanceof BudgetExceeded || meter.exhausted) return { outcome: { matched: false, error: BUDGET_EXCEEDED }, steps: meter.used };
    return { outcome: { matched: false, error: (error as CelLikeError).summary ?? (error as Error).message.split('\n')[0] }, steps: meter.used };
  }
}

/** CEL integers are 64-bit: the ids go in as BigInt (once per subject, however many filters read it). */
const contexts = new WeakMap<FilterSubject, Record<string, unknown>>();
function celContext(s: FilterSubject): Record<string, unknown> {
  let context = contexts.get(s);
  if (!context) contexts.set(s, (context = toCel(s)));
  return context;
}

function toCel(s: FilterSubject): Record<string, unknown> {
  return {
    ...s,
    creator_id: BigInt(s.creator_id),
    issue: { ...s.issue, id: BigInt(s.issue.id) },
    project: { ...s.project, id: BigInt(s.project.id) },
    stage: { ...s.stage, id: BigInt(s.stage.id) },
    task: { ...s.task, id: BigInt(s.task.id) },
  };
}

/** A pipeline step of the issue, as a filter sees it. */
export interface PipelinePart {
  id: number;
  name: string;
  status: string;
}

const NONE: PipelinePart = { id: 0, name: '', status: '' };

/** The filter's view of an activity (`stage` and `task` are the pipeline step it is about, if any). */
export function filterSubject(activity: Activity, pipeline: { stage?: PipelinePart; task?: PipelinePart } = {}): FilterSubject {
  const issue = activity.issue;
  return {
    level: activity.level,
    activity_type: activity.type,
    title: activity.title,
    description: activity.description,
    creator_id: activity.actor.id,
    creator_name: activity.actor.name,
    issue: issue ? { id: issue.id, name: issue.name, status: issue.status, type: issue.type } : { id: 0, name: '', status: '', type: '' },
    project: { id: activity.project.id, name: activity.project.name },
    stage: pipeline.stage ?? NONE,
    task: pipeline.task ?? NONE,
  };
}

export const FILTER_DOC =
  `A CEL expression an activity must pass to be sent, over ${FILTER_VARIABLES.join(', ')} ` +
  `(stage and task are those of pipeline activities, '' otherwise), e.g. \`level == "ERROR" && stage.name == "prod"\`. ` +
  `At most ${FILTER_MAX_LENGTH} characters; \`matches()\` takes an RE2 pattern as a string literal. An expression that could cost more than ` +
  `${FILTER_BUDGET.toLocaleString('en-US')} steps on the largest activity (a 65,536-character description) is refused; ` +
  `a wrong one is a 400 naming the position and the problem.`;
