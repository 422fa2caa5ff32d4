import type { Environment } from '@marcbachmann/cel-js';
import { BudgetExceeded, characterCount, COMPILE_STEPS_PER_CHAR, matchSteps, NODE_STEPS, valueSize, valueSteps, type Meter } from './budget.js';
import { compilePattern } from './regex.js';

/**
 * Runs cel-js under a meter. cel-js evaluates every node below the root through its
 * evaluator's `run(node, context)` (operands, arguments, each step of a macro), so one
 * `run` of our own, installed once on the filter environment's evaluator, sees all of the
 * work: each node costs NODE_STEPS plus the size of the value it gives. Every operator and
 * built-in function works in time linear in its operands, which were charged as they were
 * given; the one that does not, JavaScript's backtracking RegExp behind `matches()`, is
 * replaced by RE2 (regex.ts), charged before it runs. Once the budget is spent the
 * evaluation stops: no node starts, and no error-absorbing operator goes on.
 *
 * This leans on cel-js internals (the evaluator's `run`, the AST's `op` and `args`):
 * package.json pins its version, and test/webhooks/filters/budget.spec.ts fails if the
 * meter stops seeing the work.
 */

interface AstNode {
  op: string;
  args: unknown;
  evaluate(evaluator: Evaluator, node: AstNode, context: unknown): unknown;
}

/** What cel-js keeps of a parsed node: how it evaluates, or the node (a macro's expansion) it stands for. */
interface ParsedNode extends AstNode {
  readonly meta: {
    alternate?: AstNode;
    macro?: AstNode;
    evaluate(evaluator: Evaluator, node: AstNode, context: unknown): unknown;
  };
}

interface Evaluator {
  run(node: AstNode, context: unknown): unknown;
  tryEval(node: AstNode, context: unknown): unknown;
}

/** The meter of the evaluation in progress (evaluations are synchronous: one at a time). */
let current: Meter | undefined;

/** Installs the metered `run` on the environment's evaluator; call once, before any evaluation. */
export function meterEnvironment(environment: Environment): void {
  // the evaluator is private to the environment: a root node that reports what it is evaluated with finds it
  const probe = environment.parse('true') as unknown as { ast: AstNode } & ((context: unknown) => unknown);
  let evaluator: Evaluator | undefined;
  Object.defineProperty(probe.ast, 'evaluate', { value: (ev: Evaluator) => ((evaluator = ev), true) });
  probe({});
  if (!evaluator) throw new Error('cel-js: the filter environment’s evaluator was not found (has its version changed?)');
  evaluator.run = meteredRun;
  evaluator.tryEval = meteredTryEval;
}

/**
 * Where cel-js absorbs an error (the left of `||` and `&&`, each element of `exists` and
 * `all`, as CEL's semantics say), the end of the budget passes through: the evaluation
 * stops there, rather than going on element after element with nothing left to spend.
 */
function meteredTryEval(this: Evaluator, node: AstNode, context: unknown): unknown {
  try {
    return this.run(node, context);
  } catch (error) {
    if (error instanceof BudgetExceeded) throw error;
    return error;
  }
}

/**
 * cel-js evaluates the root of an expression directly, not through `run`: this root passes
 * itself to `run` first (a root `matches()` must go to RE2 too, and be charged).
 */
export function meterRoot(root: unknown): void {
  const node = root as ParsedNode;
  const { meta } = node;
  const dispatch = (ev: Evaluator, _: AstNode, context: unknown) =>
    meta.alternate ? meta.alternate.evaluate(ev, meta.alternate, context) : meta.macro ? meta.macro.evaluate(ev, meta.macro, context) : meta.evaluate(ev, node, context);
  const stand: AstNode = { op: node.op, args: node.args, evaluate: dispatch };
  Object.defineProperty(node, 'evaluate', { value: (ev: Evaluator, _: AstNode, context: unknown) => ev.run(stand, context) });
}

/** Evaluates under the meter: what fn gives, or the BudgetExceeded (or other error) it throws. */
export function metered<T>(meter: Meter, fn: () => T): T {
  const outer = current;
  current = meter;
  try {
    return fn();
  } finally {
    current = outer;
  }
}

function meteredRun(this: Evaluator, node: AstNode, context: unknown): unknown {
  const meter = current;
  if (!meter) return node.evaluate(this, node, context);
  // nothing starts once the budget is spent (charge throws again)
  if (meter.exhausted) meter.charge(0);
  const call = callName(node);
  if (call === 'matches') return matches(this, node, context, meter);
  if (call === 'size') return size(this, node, context, meter);
  const value = node.evaluate(this, node, context);
  // a macro's accumulator is handed on from step to step, not made anew: only the list it ends as is charged
  meter.charge(value !== null && typeof value === 'object' && value === (context as { accuValue?: unknown }).accuValue ? NODE_STEPS : valueSteps(value));
  return value;
}

/** The function a call node calls (`text.f(...)` or `f(text, ...)`), if it is one. */
function callName(node: AstNode): string | undefined {
  return node.op === 'rcall' || node.op === 'call' ? ((node.args as unknown[])[0] as string) : undefined;
}

/** The operands of a call node: the receiver first, then the arguments. */
function operandsOf(node: AstNode): AstNode[] {
  const args = node.args as unknown[];
  return node.op === 'rcall' ? [args[1] as AstNode, ...(args[2] as AstNode[])] : (args[1] as AstNode[]);
}

/**
 * `size()`: a text's characters, a list's or map's entries, bytes. cel-js counts a text's
 * characters with a string iterator (about 10 ns each): counted here at the speed the
 * model assumes.
 */
function size(evaluator: Evaluator, node: AstNode, context: unknown, meter: Meter): bigint {
  const value = evaluator.run(operandsOf(node)[0], context);
  if (typeof value !== 'string') return (meter.charge(NODE_STEPS), BigInt(valueSize(value)));
  meter.charge(NODE_STEPS + value.length);
  return BigInt(characterCount(value));
}

function matches(evaluator: Evaluator, node: AstNode, context: unknown, meter: Meter): boolean {
  const [textNode, patternNode] = operandsOf(node);
  const text = evaluator.run(textNode, context);
  const pattern = evaluator.run(patternNode, context);
  if (typeof text !== 'string' || typeof pattern !== 'string') throw new Error('matches() takes a string and a string pattern');
  meter.charge(NODE_STEPS + pattern.length * COMPILE_STEPS_PER_CHAR);
  const compiled = compilePattern(pattern);
  meter.charge(matchSteps(characterCount(text), compiled.programSize));
  return compiled.test(text);
}
