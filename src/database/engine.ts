import type { DataSourceOptions, QueryRunner } from 'typeorm';
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
 * Positions per partition (HERALD_PG_PARTITION_SPAN) for the migrations that make partitions: the
 * DataSource carries it in its pool options (dataSourceOptions; node-postgres ignores the key).
 */
/** Whether the store may keep statements run often prepared (HERALD_PG_PREPARED_STATEMENTS; dataSourceOptions carries it): on unless turned off. */
export function preparedStatementsOf(options: DataSourceOptions): boolean {
  return options.type !== 'postgres' || (options.extra as { heraldPreparedStatements?: unknown } | undefined)?.heraldPreparedStatements !== false;
}

export function partitionSpanOf(options: DataSourceOptions): number {
  const span = options.type === 'postgres' ? (options.extra as { heraldPartitionSpan?: unknown } | undefined)?.heraldPartitionSpan : undefined;
  return typeof span === 'number' && Number.isSafeInteger(span) && span >= 1 ? span : PARTITION_SPAN;
}
