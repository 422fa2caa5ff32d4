import type { SqlWrite } from './event.js';

/** `INSERT INTO t (a, b) VALUES (?, ?)` and what follows the row (an ON CONFLICT clause). */
const INSERT = /^\s*INSERT INTO (\S+) \(([^)]*)\) VALUES \((\?(?:\s*,\s*\?)*)\)(.*)$/s;
const CONFLICT = /^\s*ON CONFLICT \(([^)]*)\)/;

interface Shape {
  head: string;
  row: string;
  rest: string;
  /** The positions (in a row's params) of the columns a conflict is decided on. */
  key: number[] | null;
}

const shapes = new Map<string, Shape | null>();

function shapeOf(sql: string): Shape | null {
  let shape = shapes.get(sql);
  if (shape === undefined) {
    const match = INSERT.exec(sql);
    if (!match) shape = null;
    else {
      const [, table, columns, placeholders, rest] = match;
      const names = columns.split(',').map((c) => c.trim());
      const conflict = CONFLICT.exec(rest);
      const key = conflict ? conflict[1].split(',').map((c) => names.indexOf(c.trim())) : null;
      shape = key?.includes(-1) ? null : { head: `INSERT INTO ${table} (${columns}) VALUES `, row: `(${placeholders})`, rest, key };
    }
    shapes.set(sql, shape);
  }
  return shape;
}

/**
 * A rebuild's writes with each run of the same single-row INSERT (next to each other, so
 * the order of the writes holds) sent as multi-row INSERTs of `rows` rows: on PostgreSQL a
 * statement is a round trip, and a rebuild writes hundreds of rows per slice. A run with
 * ON CONFLICT is cut where a row's conflict key repeats (one statement may not update a row
 * twice). What does not fill a batch of `rows` goes row by row: one extra statement text per
 * INSERT, for the engines' statement caches.
 */
export function batchInserts(writes: readonly SqlWrite[], rows = 50): SqlWrite[] {
  const out: SqlWrite[] = [];
  let run: SqlWrite[] = [];
  let keys = new Set<string>();
  const flush = () => {
    const shape = run.length > 0 ? shapeOf(run[0].sql) : null;
    let i = 0;
    if (shape) {
      for (; i + rows <= run.length; i += rows) {
        const batch = run.slice(i, i + rows);
        out.push({ sql: `${shape.head}${Array(rows).fill(shape.row).join(', ')}${shape.rest}`, params: batch.flatMap((w) => w.params) });
      }
    }
    out.push(...run.slice(i));
    run = [];
    keys = new Set();
  };
  for (const write of writes) {
    const shape = shapeOf(write.sql);
    if (!shape) {
      flush();
      out.push(write);
      continue;
    }
    const key = shape.key ? JSON.stringify(shape.key.map((k) => write.params[k])) : null;
    if (run.length > 0 && (run[0].sql !== write.sql || (key !== null && keys.has(key)))) flush();
    run.push(write);
    if (key !== null) keys.add(key);
  }
  flush();
  return out;
}
