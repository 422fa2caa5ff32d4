import { Environment } from '@marcbachmann/cel-js';
import type { FieldError } from '../../shared/errors.js';
import type { Activity } from '../activity.js';

/**
 * Webhook filters: one CEL expression (Common Expression Language, as in Kubernetes and
 * Google's APIs) over the fields of the Custom body, plus the stage and task of pipeline
 * activities. CEL has no loops, no I/O and no way out of its variables: it is evaluated by
 * a sandboxed interpreter (no `eval`), and the limits below bound both the parse and the
 * work one evaluation can do (the only repetition, macros over list literals, is capped by
 * the list size and the node count).
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

/** The variables a filter may use, for documentation and error messages. */
export const FILTER_VARIABLES = ['level', 'activity_type', 'title', 'description', 'creator_id', 'creator_name', 'issue.id', 'issue.name', 'issue.status', 'issue.type', 'project.id', 'project.name', 'stage.id', 'stage.name', 'stage.status', 'task.id', 'task.name', 'task.status'];

export interface FilterProblem {
  /** 0-based offset of the problem in the expression. */
  position: number;
  message: string;
}

type Compiled = (subject: FilterSubject) => boolean;
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
    const checked = environment.check(source);
    if (!checked.valid) return problemOf(checked.error as unknown as CelLikeError);
    if (checked.type !== 'bool') return { position: 0, message: `the expression must give true or false, not a ${String(checked.type)}` };
    const parsed = environment.parse(source);
    return (subject) => parsed(celContext(subject)) === true;
  } catch (error) {
    return problemOf(error as CelLikeError);
  }
}

function problemOf(error: CelLikeError): FilterProblem {
  return { position: error.range?.start ?? 0, message: error.summary ?? error.message.split('\n')[0] };
}

export const isProblem = (value: Compiled | FilterProblem): value is FilterProblem => typeof value !== 'function';

/** The 400 field errors of a filter given on input (none when it is fine or absent). */
export function checkFilter(source: string | null | undefined): FieldError[] {
  if (source === undefined || source === null) return [];
  const result = compileFilter(source);
  return isProblem(result) ? [{ field: 'filter', message: `at position ${result.position}: ${result.message}` }] : [];
}

/** Whether the activity passes the filter; an expression that fails on this activity lets nothing through, saying why. */
export function evaluateFilter(source: string, subject: FilterSubject): { matched: boolean; error?: string } {
  const filter = compileFilter(source);
  if (isProblem(filter)) return { matched: false, error: `at position ${filter.position}: ${filter.message}` };
  try {
    return { matched: filter(subject) };
  } catch (error) {
    return { matched: false, error: (error as CelLikeError).summary ?? (error as Error).message.split('\n')[0] };
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
  `At most ${FILTER_MAX_LENGTH} characters; a wrong one is a 400 naming the position and the problem.`;
