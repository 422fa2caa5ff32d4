import type { SqlWrite } from './event.js';
import type { EventStore, WriteTx } from './event-store.js';

const SHADOW = '__rebuild';
const OLD = '__old';
/** Rows of a set-aside table deleted per transaction (SQLite: dropping a big table at once would hold the loop). */
const DROP_SLICE = 2000;

const ddl = (sql: string): SqlWrite => ({ sql, params: [] });

/**
 * Where a rebuild writes: a shadow of each read-model table (`rm_x__rebuild`, the same
 * columns and indexes), filled in short transactions while the live tables keep serving
 * (and taking the commands' rows), then swapped in by one short transaction. Readers see
 * the old read models or the new ones, never a half-built set.
 *
 * SQLite cannot rename an index: a shadow's indexes take the other of two names (`ix_a`,
 * `ix_a__b`), so a table's indexes alternate between them from one rebuild to the next (a
 * migration that drops one names both). Its set-aside tables are emptied in slices and
 * dropped after the swap. PostgreSQL renames indexes and constraints back to the originals
 * and drops the old tables in the swap itself (a drop there does not read the rows).
 */
export class ShadowTables {
  private readonly pattern: RegExp;
  private readonly rewritten = new Map<string, string>();

  constructor(
    private readonly store: EventStore,
    private readonly tables: readonly string[],
  ) {
    // longest first: rm_project_members before rm_projects would not matter with \b, but a prefix might
    const names = [...tables].sort((a, b) => b.length - a.length);
    this.pattern = new RegExp(`\\b(${names.join('|')})\\b`, 'g');
  }

  /** The projections' writes, aimed at the shadows (projections name their own table in their SQL). */
  intoShadows(writes: SqlWrite[]): SqlWrite[] {
    return writes.map((write) => {
      let sql = this.rewritten.get(write.sql);
      if (sql === undefined) {
        sql = write.sql.replace(this.pattern, (table) => table + SHADOW);
        this.rewritten.set(write.sql, sql);
      }
      return { sql, params: write.params };
    });
  }

  /** Drops whatever an interrupted rebuild left, then creates empty shadows. */
  async prepare(onSlice?: () => Promise<void>): Promise<void> {
    await this.dropLeftovers(onSlice);
    await this.store.transact(async (tx) => {
      for (const table of this.tables) await tx.exec(this.store.engine === 'postgres' ? [ddl(`CREATE TABLE ${table + SHADOW} (LIKE ${table} INCLUDING ALL)`)] : await sqliteShadowDdl(tx, table));
    }, { durable: false });
  }

  /**
   * First thing in the swap's transaction. PostgreSQL: the log (no append meanwhile) and every
   * read-model table (no reader), each lock given up after lock_timeout rather than waited for
   * (a command holding one and waiting for another would deadlock with the swap): the caller
   * tries again. SQLite: the write transaction holds the database already.
   */
  async lock(tx: WriteTx, timeoutMs: number): Promise<void> {
    if (this.store.engine !== 'postgres') return;
    await tx.exec([
      ddl(`SET LOCAL lock_timeout = '${Math.round(timeoutMs)}ms'`),
      ddl(`LOCK TABLE events IN EXCLUSIVE MODE`),
      ddl(`LOCK TABLE ${this.tables.flatMap((t) => [t, t + SHADOW]).join(', ')} IN ACCESS EXCLUSIVE MODE`),
    ]);
  }

  /** In the swap's transaction, after the shadows took the tail of the log: they become the read models. */
  async swap(tx: WriteTx): Promise<void> {
    if (this.store.engine !== 'postgres') {
      for (const table of this.tables) await tx.exec([ddl(`ALTER TABLE ${table} RENAME TO ${table + OLD}`), ddl(`ALTER TABLE ${table + SHADOW} RENAME TO ${table}`)]);
      return;
    }
    for (const table of this.tables) {
      const renames = await postgresNameRenames(tx, table);
      await tx.exec([ddl(`DROP TABLE ${table}`), ddl(`ALTER TABLE ${table + SHADOW} RENAME TO ${table}`), ...renames.map(ddl)]);
    }
  }

  /**
   * The tables set aside by the swap (SQLite), or left by a rebuild that was interrupted:
   * emptied in slices (SQLite: a drop frees every page at once), then dropped. Stops early when onSlice
   * answers false (the rest goes at the next rebuild's preparation).
   */
  async dropLeftovers(onSlice?: () => Promise<boolean | void>): Promise<void> {
    for (const old of this.tables.flatMap((table) => [table + OLD, table + SHADOW])) {
      if (!(await this.exists(old))) continue;
      for (; this.store.engine === 'sqlite'; ) {
        const deleted = await this.store.transact(
          (tx) => tx.all(`DELETE FROM ${old} WHERE rowid IN (SELECT rowid FROM ${old} LIMIT ${DROP_SLICE}) RETURNING 1 AS gone`),
          { durable: false },
        );
        if ((await onSlice?.()) === false) return;
        if (deleted.length < DROP_SLICE) break;
      }
      await this.store.transact((tx) => tx.exec([ddl(`DROP TABLE ${old}`)]), { durable: false });
    }
  }

  private async exists(table: string): Promise<boolean> {
    const sql =
      this.store.engine === 'postgres'
        ? `SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?`
        : `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`;
    return (await this.store.queryOne(sql, [table])) !== undefined;
  }
}

/** `ix_a` ⇄ `ix_a__b`: the name a shadow's copy of an index takes (SQLite keeps one namespace for them). */
const otherName = (index: string) => (index.endsWith('__b') ? index.slice(0, -3) : `${index}__b`);

/** The table's DDL as SQLite keeps it, aimed at its shadow (the table first, then its indexes under their other names). */
async function sqliteShadowDdl(tx: WriteTx, table: string): Promise<SqlWrite[]> {
  const rows = await tx.all<{ type: string; sql: string }>(`SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type = 'table' DESC`, [table]);
  if (!rows.some((r) => r.type === 'table')) throw new Error(`no read-model table ${table} to rebuild`);
  return rows.map(({ type, sql }) =>
    ddl(
      type === 'table'
        ? sql.replace(/^CREATE TABLE\s+("?)\w+\1/i, `CREATE TABLE ${table + SHADOW}`)
        : sql.replace(/^CREATE (UNIQUE )?INDEX\s+("?)(\w+)\2\s+ON\s+("?)\w+\4/i, (_m, unique: string | undefined, _q, name: string) => `CREATE ${unique ?? ''}INDEX ${otherName(name)} ON ${table + SHADOW}`),
    ),
  );
}

/**
 * The renames that give a swapped-in shadow its table's index and constraint names (PostgreSQL
 * made up its own for the copy): indexes matched by definition, other constraints (NOT NULL,
 * CHECK) by the name they were made up from. Read before the table is dropped.
 */
async function postgresNameRenames(tx: WriteTx, table: string): Promise<string[]> {
  const shadow = table + SHADOW;
  const indexes = await tx.all<{ tablename: string; indexname: string; indexdef: string }>(
    `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN (?, ?)`,
    [table, shadow],
  );
  const shape = (def: string) => def.replace(/^CREATE (UNIQUE )?INDEX \S+ ON \S+ /, '$1');
  const copies = indexes.filter((i) => i.tablename === shadow);
  const renames: string[] = [];
  for (const original of indexes.filter((i) => i.tablename === table)) {
    const copy = copies.find((c) => shape(c.indexdef) === shape(original.indexdef));
    if (!copy) continue;
    copies.splice(copies.indexOf(copy), 1);
    renames.push(`ALTER INDEX ${copy.indexname} RENAME TO ${original.indexname}`);
  }
  const constraints = await tx.all<{ conname: string }>(
    `SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(?) AND conindid = 0 AND conname LIKE ?`,
    [shadow, `${shadow}\\_%`],
  );
  for (const { conname } of constraints) renames.push(`ALTER TABLE ${table} RENAME CONSTRAINT ${conname} TO ${table}${conname.slice(shadow.length)}`);
  return renames;
}
