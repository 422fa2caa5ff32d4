import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isPostgres, partitionSpanOf } from '../engine.js';

/** The log's columns but its position (whose default differs: a sequence here, an identity before), as 1764000000000 made them. */
const COLUMNS = `transaction_id xid8    NOT NULL DEFAULT pg_current_xact_id(),
      event_id       TEXT    NOT NULL,
      stream_id      TEXT    NOT NULL,
      version        INTEGER NOT NULL,
      type           TEXT    NOT NULL,
      schema_version INTEGER NOT NULL,
      data           JSONB   NOT NULL,
      metadata       JSONB   NOT NULL,
      occurred_at    TEXT    NOT NULL`;

/**
 * The log partitioned by position on PostgreSQL (issue 26; docs/scale.md, section 3). SQLite keeps its table.
 *
 * - `events` becomes `PARTITION BY RANGE (position)`, its columns unchanged. The old table, rows and all,
 *   is attached as its first partition (`events_from_min`, MINVALUE to the head + 1): no row is copied;
 *   ATTACH checks the bound with one scan and builds the two indexes it cannot reuse. Measured: 1.3 to 2.7 s per
 *   million events on a busy two-core machine, the log locked meanwhile (migrations run before Herald serves).
 * - Positions come from a sequence (past the head), the column's default: inserts never name one. (An identity
 *   column on a partitioned table needs PostgreSQL 17; a sequence default works from 14 on, like DETACH CONCURRENTLY.)
 * - A partitioned table's unique keys must contain the partition key, so `UNIQUE (event_id)` becomes
 *   `(event_id, position)` and `UNIQUE (stream_id, version)` a plain index. Its job, refusing a second
 *   append of the same version, moves to `stream_heads`: one row per stream, moved from the expected version
 *   to the new one by every append, in the statement that inserts (see PostgresEventStore). Its
 *   first_position bounds a stream's reads, so PostgreSQL skips the partitions before the stream began.
 * - Partitions up to one span past the head; the PartitionKeeper keeps them ahead from then on.
 */
export class PartitionedLog1765400000000 implements MigrationInterface {
  name = 'PartitionedLog1765400000000';

  async up(q: QueryRunner): Promise<void> {
    if (!isPostgres(q)) return;
    const span = partitionSpanOf(q.connection.options);
    const [{ head }] = (await q.query(`SELECT COALESCE(MAX(position), 0)::text AS head FROM events`)) as { head: string }[];
    const last = Number(head);

    await q.query(`ALTER TABLE events RENAME TO events_from_min`);
    // dropping the identity drops its sequence (events_position_seq): the new one takes its name
    await q.query(`ALTER TABLE events_from_min ALTER COLUMN position DROP IDENTITY`);
    await q.query(`ALTER TABLE events_from_min RENAME CONSTRAINT events_pkey TO events_from_min_pkey`);
    await q.query(`ALTER INDEX ix_events_transaction_position RENAME TO events_from_min_transaction_id_position_idx`);
    await q.query(`ALTER TABLE events_from_min DROP CONSTRAINT events_event_id_key, DROP CONSTRAINT uq_events_stream_version`);

    await q.query(`CREATE SEQUENCE events_position_seq AS BIGINT START WITH ${last + 1}`);
    await q.query(`CREATE TABLE events (
      position       BIGINT  NOT NULL DEFAULT nextval('events_position_seq'),
      ${COLUMNS},
      CONSTRAINT events_pkey PRIMARY KEY (position),
      CONSTRAINT uq_events_event_id UNIQUE (event_id, position)
    ) PARTITION BY RANGE (position)`);
    await q.query(`ALTER SEQUENCE events_position_seq OWNED BY events.position`);
    await q.query(`CREATE INDEX ix_events_stream_version ON events (stream_id, version)`);
    await q.query(`CREATE INDEX ix_events_transaction_position ON events (transaction_id, position)`);

    // the primary key and the (transaction_id, position) index are the old table's own: ATTACH adopts them
    if (last > 0) await q.query(`ALTER TABLE events ATTACH PARTITION events_from_min FOR VALUES FROM (MINVALUE) TO (${last + 1})`);
    else await q.query(`DROP TABLE events_from_min`);

    await q.query(`CREATE TABLE stream_heads (stream_id TEXT PRIMARY KEY, version INTEGER NOT NULL, first_position BIGINT)`);
    await q.query(`INSERT INTO stream_heads (stream_id, version, first_position) SELECT stream_id, MAX(version), MIN(position) FROM events GROUP BY stream_id`);

    // the new table is this transaction's alone: its partitions are made in place (the keeper attaches later ones)
    await q.query(`CREATE TABLE events_from_${last + 1} PARTITION OF events FOR VALUES FROM (${last + 1}) TO (${last + 1 + span})`);
  }

  /** The log in one table again, with its identity and its unique keys (the rows copied). */
  async down(q: QueryRunner): Promise<void> {
    if (!isPostgres(q)) return;
    await q.query(`CREATE TABLE events_single (
      position       BIGINT  GENERATED ALWAYS AS IDENTITY,
      ${COLUMNS}
    )`);
    await q.query(`INSERT INTO events_single OVERRIDING SYSTEM VALUE SELECT * FROM events`);
    const [{ next }] = (await q.query(`SELECT nextval('events_position_seq')::text AS next`)) as { next: string }[];
    await q.query(`DROP TABLE events`);
    await q.query(`DROP TABLE stream_heads`);
    await q.query(`ALTER TABLE events_single RENAME TO events`);
    await q.query(`ALTER SEQUENCE events_single_position_seq RENAME TO events_position_seq`);
    await q.query(`ALTER TABLE events ALTER COLUMN position RESTART WITH ${Number(next)}`);
    await q.query(`ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (position), ADD CONSTRAINT events_event_id_key UNIQUE (event_id),
      ADD CONSTRAINT uq_events_stream_version UNIQUE (stream_id, version)`);
    await q.query(`CREATE INDEX ix_events_transaction_position ON events (transaction_id, position)`);
  }
}
