import type { QueryRunner } from 'typeorm';

/**
 * Migrations run on both engines: each branches on the one it runs on. The SQLite
 * statements stay exactly as first released (databases in use have run them); the
 * PostgreSQL ones give the same tables with PostgreSQL types: BIGINT for ids, positions
 * and epoch milliseconds (INTEGER is 32-bit there), JSONB for event data.
 */
export function isPostgres(q: QueryRunner): boolean {
  return q.connection.options.type === 'postgres';
}
