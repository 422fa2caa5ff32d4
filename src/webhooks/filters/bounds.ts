import { ENTRY_STEPS, NODE_STEPS, valueSize } from './budget.js';

/**
 * What the save-time check knows of a value: the most it can hold (worst-case-cost.ts
 * bounds an expression's cost by these, node after node).
 */
export interface Bound {
  /** The largest size of the value (see valueSize). */
  size: number;
  /** Of a text: the most characters (code points) it holds, if fewer than its size in UTF-16 units. */
  chars?: number;
  /** Of a list's elements, or a map's values. */
  elem?: Bound;
  /** Of a list: the most its elements' sizes add up to, if less than its length times the largest element. */
  total?: number;
  /** Of a map's keys (what a macro over a map iterates). */
  key?: Bound;
  /** Of an object's known fields. */
  fields?: Record<string, Bound>;
}

/** A field of an object, an entry of a map (by its literal name, else the largest), an element of a list. */
export function member(object: Bound, name: string | undefined): Bound | undefined {
  if (object.fields) return name !== undefined && name in object.fields ? object.fields[name] : largest(Object.values(object.fields));
  return object.elem;
}

/** A literal: a text, or a scalar (lists and maps are nodes of their own). */
export function literalBound(value: unknown): Bound {
  return typeof value === 'string' ? { size: value.length } : valueSize(value) > 0 ? { size: valueSize(value), elem: { size: 0 } } : { size: 0 };
}

/** What a node giving a value of this bound costs: NODE_STEPS, a text's length, ENTRY_STEPS an entry (valueSteps). */
export function boundSteps(bound: Bound): number {
  const entries = bound.elem !== undefined || bound.key !== undefined || bound.fields !== undefined;
  return NODE_STEPS + (entries ? bound.size * ENTRY_STEPS : bound.size);
}

/** `+` of two texts, or of two lists. */
export function concatenated(a: Bound, b: Bound): Bound {
  if (isText(a) && isText(b)) return { size: a.size + b.size, chars: (a.chars ?? a.size) + (b.chars ?? b.size) };
  const total = (l: Bound) => l.total ?? l.size * (l.elem?.size ?? 0);
  return { size: a.size + b.size, elem: largest([a.elem ?? { size: 0 }, b.elem ?? { size: 0 }]), total: total(a) + total(b) };
}

export const isText = (bound: Bound) => bound.elem === undefined && bound.key === undefined && bound.fields === undefined;


export function largest(bounds: Bound[]): Bound | undefined {
  if (bounds.length === 0) return undefined;
  return bounds.reduce((a, b) => ({ size: Math.max(a.size, b.size), chars: Math.max(a.chars ?? a.size, b.chars ?? b.size), elem: a.elem && b.elem ? largest([a.elem, b.elem]) : (a.elem ?? b.elem), fields: a.fields ?? b.fields }));
}
