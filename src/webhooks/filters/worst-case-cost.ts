import { COMPILE_STEPS_PER_CHAR, FILTER_BUDGET, matchSteps, NODE_STEPS } from './budget.js';
import { boundSteps, concatenated, isText, largest, literalBound, member, type Bound } from './bounds.js';
import { compilePattern, PatternError } from './regex.js';

export type { Bound };

/**
 * The most an expression can cost on any activity, before it ever runs: the cost model of
 * budget.ts applied to the largest values each variable can hold. Each node is bounded by
 * the size of the largest value it can give (`size`; for lists, also their elements') and
 * the steps it can take (`cost`): a macro's body times the most elements its list can have,
 * a regular expression's program times the longest text. An expression whose bound is over
 * the budget is refused where it is saved, naming its smallest part that is.
 */
interface Estimate extends Bound {
  cost: number;
}

export interface CostProblem {
  position: number;
  message: string;
}

/** What cel-js's checked AST gives us: an operator, its operands, its place in the text and its type. */
interface Node {
  op: string;
  args: unknown;
  start: number;
  end: number;
  input: string;
  checkedType?: { name: string; kind: string };
}

type Scope = ReadonlyMap<string, Bound>;

const SCALARS = new Set(['bool', 'int', 'uint', 'double', 'null_type', 'google.protobuf.Timestamp', 'google.protobuf.Duration', 'type']);
const QUANTIFIERS = new Set(['all', 'exists', 'exists_one']);
/** The largest text a number or a boolean becomes. */
const SCALAR_TEXT = 32;

/** Bounds an expression's cost over variables no larger than `variables`; a problem if it could exceed the budget. */
export function worstCaseProblem(root: unknown, variables: Record<string, Bound>, budget = FILTER_BUDGET): CostProblem | undefined {
  const estimator = new Estimator(budget, variables);
  try {
    const total = estimator.estimate(root as Node, new Map(Object.entries(variables)));
    const over = estimator.firstOver ?? (total.cost > budget ? { node: root as Node, cost: total.cost } : undefined);
    if (!over) return undefined;
    const part = over.node.input.slice(over.node.start, over.node.end);
    return {
      position: over.node.start,
      message:
        `\`${part.length > 60 ? `${part.slice(0, 57)}...` : part}\` could take up to ${steps(over.cost)} steps on the largest activity, ` +
        `over the budget of ${steps(budget)} (a description may hold 65,536 characters): ${hintFor(over.node)}`,
    };
  } catch (error) {
    if (error instanceof LocatedProblem) return error.problem;
    throw error;
  }
}

/** The bound of an expression's cost, for tests and the benchmark. */
export function worstCaseCost(root: unknown, variables: Record<string, Bound>): number {
  return new Estimator(Infinity, variables).estimate(root as Node, new Map(Object.entries(variables))).cost;
}

class LocatedProblem extends Error {
  constructor(readonly problem: CostProblem) {
    super(problem.message);
  }
}

/** What to do instead, by the kind of the part that is too costly. */
function hintFor(node: Node): string {
  const name = node.op === 'call' || node.op === 'rcall' ? ((node.args as unknown[])[0] as string) : undefined;
  if (name === 'matches') return 'a match costs the text’s characters times the pattern’s program size: use a simpler pattern, or match a shorter field';
  if (name === 'split') return 'split() makes a list as long as the text: test the text itself (contains, startsWith, matches) instead';
  if (name && (QUANTIFIERS.has(name) || name === 'map' || name === 'filter')) return 'test the text itself (contains, startsWith, matches) rather than iterating over lists made from it';
  return 'work on fewer or shorter values';
}

const steps = (n: number) => (Number.isFinite(n) && n < 1e15 ? Math.ceil(n).toLocaleString('en-US') : 'more than 10^15');

class Estimator {
  /** The first node (innermost, as children are estimated first) whose own bound is over the budget. */
  firstOver?: { node: Node; cost: number };

  /** A value the variables do not bound (a constant, a `dyn` one): as large as the largest of them, and as long. */
  readonly unknown: Bound;

  constructor(
    private readonly budget: number,
    variables: Record<string, Bound>,
  ) {
    const size = Math.max(0, ...Object.values(variables).flatMap((v) => [v.size, ...Object.values(v.fields ?? {}).map((f) => f.size)]));
    this.unknown = { size, elem: { size }, key: { size } };
  }

  estimate(node: Node, scope: Scope): Estimate {
    const estimate = this.estimateNode(node, scope);
    if (!this.firstOver && estimate.cost > this.budget) this.firstOver = { node, cost: estimate.cost };
    return estimate;
  }

  /** Every node costs what the value it gives costs (valueSteps in budget.ts), besides its operands. */
  private node(operandsCost: number, bound: Bound, extra = 0): Estimate {
    return { ...bound, cost: operandsCost + extra + boundSteps(bound) };
  }

  private estimateNode(node: Node, scope: Scope): Estimate {
    const args = node.args as any;
    switch (node.op) {
      case 'value':
        return this.node(0, literalBound(args));
      case 'id':
        return this.node(0, scope.get(args as string) ?? this.ofType(node, this.unknown));
      case '.':
      case '.?': {
        const object = this.estimate(args[0], scope);
        return this.node(object.cost, this.ofType(node, member(object, args[1] as string) ?? this.unknown));
      }
      case '[]':
      case '[?]': {
        const [object, index] = [this.estimate(args[0], scope), this.estimate(args[1], scope)];
        const name = (args[1] as Node).op === 'value' && typeof (args[1] as Node).args === 'string' ? ((args[1] as Node).args as string) : undefined;
        return this.node(object.cost + index.cost, this.ofType(node, member(object, name) ?? this.unknown));
      }
      case 'list':
      case 'map': {
        const items = (node.op === 'map' ? (args as Node[][]).flat() : (args as Node[])).map((n) => this.estimate(n, scope));
        const values = node.op === 'map' ? items.filter((_, i) => i % 2 === 1) : items;
        const keys = node.op === 'map' ? items.filter((_, i) => i % 2 === 0) : [];
        return this.node(sum(items), { size: values.length, elem: largest(values), key: largest(keys), total: values.reduce((t, v) => t + v.size, 0) });
      }
      case '?:': {
        const [condition, a, b] = (args as Node[]).map((n) => this.estimate(n, scope));
        return this.node(condition.cost + Math.max(a.cost, b.cost), largest([a, b]) ?? { size: 0 });
      }
      case 'call':
        return this.call(node, args[0] as string, undefined, args[1] as Node[], scope);
      case 'rcall':
        return this.call(node, args[0] as string, args[1] as Node, args[2] as Node[], scope);
      default: {
        // operators: `+` of strings or lists gives both operands' size; every other operator a scalar
        const operands = (Array.isArray(args) ? (args as Node[]) : [args as Node]).map((n) => this.estimate(n, scope));
        return this.node(sum(operands), node.op === '+' && !this.isScalar(node) ? concatenated(operands[0], operands[1]) : { size: 0 });
      }
    }
  }

  private call(node: Node, name: string, receiver: Node | undefined, argNodes: Node[], scope: Scope): Estimate {
    if (receiver && QUANTIFIERS.has(name)) return this.quantifier(receiver, argNodes, scope);
    if (receiver && (name === 'map' || name === 'filter')) return this.transform(name, receiver, argNodes, scope);
    if (!receiver && name === 'has') return this.node(0, { size: 0 }, NODE_STEPS * 8);
    if (receiver && name === 'bind' && (receiver as Node).op === 'id' && (receiver.args as string) === 'cel') {
      const [variable, valueNode, body] = argNodes;
      const value = this.estimate(valueNode, scope);
      const inner = this.estimate(body, new Map(scope).set(variable.args as string, value));
      return this.node(value.cost + inner.cost, inner);
    }
    const operands = [...(receiver ? [receiver] : []), ...argNodes].map((n) => this.estimate(n, scope));
    if (name === 'matches') return this.matches(argNodes[receiver ? 0 : 1], operands);
    // size() counts a text's characters
    const extra = name === 'size' && isText(operands[0]) ? operands[0].size : 0;
    return this.node(sum(operands), this.result(node, name, operands), extra);
  }

  /** What a built-in function gives, bounded by its operands (in the order receiver, arguments). */
  private result(node: Node, name: string, operands: Estimate[]): Bound {
    if (this.isScalar(node)) return { size: 0 };
    const [first, second] = operands;
    switch (name) {
      case 'split':
        // its parts together are no longer than the text
        return { size: first.size + 1, elem: { size: first.size, chars: first.chars }, total: first.size };
      case 'join':
        return { size: (first.size + 1) * ((first.elem?.size ?? 0) + (second?.size ?? 0)) };
      case 'bytes':
        return { size: 3 * first.size };
      case 'hex':
        return { size: 2 * first.size };
      case 'base64':
        return { size: Math.ceil((4 * first.size) / 3) + 4 };
      case 'json':
        return { size: first.size, elem: { size: first.size }, key: { size: first.size }, total: first.size };
      case 'string':
        return { size: first.size === 0 ? SCALAR_TEXT : first.size };
      default:
        // lowerAscii, upperAscii, trim, substring, dyn...: no larger than what they are given
        return largest(operands) ?? { size: 0 };
    }
  }

  private matches(patternNode: Node, operands: Estimate[]): Estimate {
    if (patternNode.op !== 'value' || typeof patternNode.args !== 'string') {
      throw new LocatedProblem({ position: patternNode.start, message: 'matches() takes its pattern as a string literal (so that its cost is known before it runs)' });
    }
    const pattern = patternNode.args;
    let programSize: number;
    try {
      programSize = compilePattern(pattern).programSize;
    } catch (error) {
      if (!(error instanceof PatternError)) throw error;
      throw new LocatedProblem({ position: patternNode.start, message: `the regular expression is not RE2 syntax: ${error.message}` });
    }
    const text = operands[0];
    return this.node(sum(operands), { size: 0 }, pattern.length * COMPILE_STEPS_PER_CHAR + NODE_STEPS + matchSteps(text.chars ?? text.size, programSize));
  }

  /** all, exists, exists_one: the body, once for each element. */
  private quantifier(receiver: Node, [variable, predicate]: Node[], scope: Scope): Estimate {
    const list = this.estimate(receiver, scope);
    // the step around the body: a conditional, a constant and the accumulator; and the accumulator's start
    const steps = this.overElements(list, variable, scope, (inner) => [this.estimate(predicate, inner).cost + 3 * NODE_STEPS, 0]);
    return this.node(list.cost + steps.cost, { size: 0 }, NODE_STEPS);
  }

  /** map(v, t), map(v, p, t), filter(v, p): a list as long as the one they walk. */
  private transform(name: string, receiver: Node, argNodes: Node[], scope: Scope): Estimate {
    const list = this.estimate(receiver, scope);
    let element: Bound = { size: 0 };
    const steps = this.overElements(list, argNodes[0], scope, (inner, atLargest) => {
      const parts = argNodes.slice(1).map((n) => this.estimate(n, inner));
      if (atLargest && name === 'map') element = parts[parts.length - 1];
      // filter() reads the element again to keep it
      const kept = name === 'filter' ? boundSteps(inner.get(argNodes[0].args as string)!) : 0;
      return [sum(parts) + 3 * NODE_STEPS + kept, name === 'map' ? parts[parts.length - 1].size : 0];
    });
    const result = name === 'filter' ? { size: list.size, elem: this.elementOf(list), total: list.total } : { size: list.size, elem: element, total: steps.size };
    return this.node(list.cost + steps.cost, result, NODE_STEPS);
  }

  /**
   * What a body costs (and the size of what it gives) summed over a list's elements. Every
   * bound here is a convex function f of the element's size (sums, products and maxima of
   * sizes), so over L elements of at most E each and T in all, the sum is at most L·f(E),
   * and at most L·f(0) + f(E)·T/E (each f(e) lies under the chord from f(0) to f(E)): a split
   * of a text into many short parts is bounded by the text's length, not by its square.
   */
  private overElements(list: Bound, variable: Node, scope: Scope, body: (inner: Scope, atLargest: boolean) => [cost: number, size: number]): { cost: number; size: number } {
    const name = variable.args as string;
    const element = this.elementOf(list);
    const [costAtLargest, sizeAtLargest] = body(new Map(scope).set(name, element), true);
    const [costAtZero, sizeAtZero] = body(new Map(scope).set(name, { size: 0 }), false);
    const count = list.size;
    const total = list.total ?? count * element.size;
    const sumOf = (atLargest: number, atZero: number) =>
      element.size === 0 ? count * atLargest : Math.min(count * atLargest, count * atZero + (atLargest * Math.min(total, count * element.size)) / element.size);
    return { cost: sumOf(costAtLargest, costAtZero), size: sumOf(sizeAtLargest, sizeAtZero) };
  }

  /** What a macro's variable holds: a list's element, a map's key. */
  private elementOf(list: Bound): Bound {
    return list.key ?? list.elem ?? { size: 0 };
  }

  private isScalar(node: Node): boolean {
    return node.checkedType !== undefined && SCALARS.has(node.checkedType.name);
  }

  /** Scalar if the checked type says so, whatever the bound found. */
  private ofType(node: Node, bound: Bound): Bound {
    return this.isScalar(node) ? { size: 0 } : bound;
  }
}

const sum = (estimates: Estimate[]) => estimates.reduce((total, e) => total + e.cost, 0);
