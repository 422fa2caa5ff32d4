import type { QueryRunner } from 'typeorm';
import { PARTITION_SPAN } from '../config/config.js';

/**
 * Migrations run on both engines: each branches on the one it runs on. The SQLite
 * statements stay exactly as first released (databases in use have run them); the
 * PostgreSQL ones give the same tables with PostgreSQL types: BIGINT for ids, positions
 * and epoch milliseconds (INTEGER is 32-bit there), JSONB for event data.
 */
export function isPostgres(q: QueryRunner): boolean {
  return q.connection.options.type === 'postgres';
}

/**
 * Positions per partition on PostgreSQL (HERALD_PG_PARTITION_SPAN), for migrations that make
 * partitions: dataSourceOptions hands it over in the pool options' `extra` (node-postgres ignores it).
 */
export function partitionSpanOf(q: QueryRunner): number {
  const extra = (q.connection.options as { extra?: { partitionSpan?: number } }).extra;
  return extra?.partitionSpan ?? PARTITION_SPAN;
}
