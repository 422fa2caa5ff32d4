/**
 * Which errors mean "the storage cannot serve now" (a full disk, a lost server), as
 * opposed to a bug or a rule the caller broke: both engines wrap them into
 * StorageUnavailableError, the HTTP edge answers them 503, readiness reports them, and
 * background work pauses on them. Pure: no state, no I/O.
 */

export type StorageFaultKind = 'disk-full' | 'io-error' | 'busy' | 'read-only' | 'unreachable' | 'shutting-down' | 'too-many-connections' | 'pool-timeout' | 'no-partition';

export interface StorageFault {
  kind: StorageFaultKind;
  /** For a person: what is wrong with the storage ("the database disk is full"). */
  detail: string;
  /** The engine's own code (SQLITE_FULL, 53100, ECONNREFUSED, …), for logs and operators. */
  code: string;
}

export const STORAGE_UNAVAILABLE_PROBLEM = 'urn:herald:problem:storage-unavailable';

/** A storage fault as thrown by the event store: the original error is its cause. */
export class StorageUnavailableError extends Error {
  constructor(
    readonly fault: StorageFault,
    cause: unknown,
    /**
     * The connection was lost while COMMIT was on its way (PostgreSQL): the server may
     * have committed before it went, so the change may have been applied.
     */
    readonly outcomeUnknown = false,
  ) {
    super(`storage unavailable: ${fault.detail} (${fault.code})`, { cause });
    this.name = 'StorageUnavailableError';
  }
}

const fault = (kind: StorageFaultKind, detail: string, code: string): StorageFault => ({ kind, detail, code });

/** SQLite's primary result codes (better-sqlite3 puts the extended one in `code`: SQLITE_IOERR_WRITE, SQLITE_BUSY_SNAPSHOT, …). */
function sqliteFault(code: string): StorageFault | undefined {
  if (code === 'SQLITE_FULL') return fault('disk-full', 'the database disk is full', code);
  if (code.startsWith('SQLITE_IOERR')) return fault('io-error', 'the database file could not be read or written (an I/O error)', code);
  // better-sqlite3 waits the busy timeout (5 s) before it reports SQLITE_BUSY: past it, the lock is someone else's for long
  if (code.startsWith('SQLITE_BUSY')) return fault('busy', 'the database is locked by another process for longer than the busy timeout', code);
  if (code.startsWith('SQLITE_READONLY')) return fault('read-only', 'the database file cannot be written (read-only file or filesystem, or the file was moved)', code);
  if (code.startsWith('SQLITE_CANTOPEN')) return fault('unreachable', 'the database file cannot be opened', code);
  return undefined;
}

/** PostgreSQL SQLSTATEs (class 08: connection exception; 53: insufficient resources; 57P: operator intervention). */
function postgresFault(code: string): StorageFault | undefined {
  if (code === '53100') return fault('disk-full', 'the database server’s disk is full', code);
  if (code === '53300') return fault('too-many-connections', 'the database server has no connection left for Herald (too many connections)', code);
  if (code === '57P01' || code === '57P02') return fault('shutting-down', 'the database server is shutting down', code);
  if (code === '57P03') return fault('shutting-down', 'the database server is starting up or shutting down and takes no connections now', code);
  if (code === '25006') return fault('read-only', 'the database server is read-only (a standby?)', code);
  if (code.startsWith('08')) return fault('unreachable', 'the connection to the database server failed', code);
  return undefined;
}

/** Socket errors of a connection to the database server. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN']);

/** node-postgres reports a lost or unusable connection, and pg-pool a wait for a connection past its timeout, by message only. */
const PG_MESSAGES: [RegExp, StorageFault][] = [
  [/^timeout exceeded when trying to connect$/, fault('pool-timeout', 'no database connection became free within the connection timeout', 'POOL_TIMEOUT')],
  [/^Connection terminated/, fault('unreachable', 'the connection to the database server was lost', 'CONNECTION_LOST')],
  [/connection error and is not queryable$|^Client was closed and is not queryable$/, fault('unreachable', 'the connection to the database server was lost', 'CONNECTION_LOST')],
];

/** The storage fault an error stands for, or undefined when it is none (a bug, a constraint, a rule). */
export function storageFault(error: unknown, depth = 0): StorageFault | undefined {
  if (typeof error !== 'object' || error === null || depth > 4) return undefined;
  if (error instanceof StorageUnavailableError) return error.fault;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; driverError?: unknown; errors?: unknown };
  if (e.code === '23514' && typeof e.message === 'string') {
    const found = noPartitionFault(e.message);
    if (found) return found;
  }
  if (typeof e.code === 'string') {
    // network codes first: EPIPE has the shape of a SQLSTATE
    const found = e.code.startsWith('SQLITE_') ? sqliteFault(e.code) : NETWORK_CODES.has(e.code) ? networkFault(e.code) : /^[0-9A-Z]{5}$/.test(e.code) ? postgresFault(e.code) : undefined;
    if (found) return found;
  }
  if (typeof e.message === 'string') {
    for (const [pattern, known] of PG_MESSAGES) if (pattern.test(e.message)) return known;
  }
  // TypeORM's QueryFailedError keeps the driver's error; Node's connect to several addresses gives an AggregateError
  for (const inner of [e.driverError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const found = storageFault(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * A row whose partition key no partition holds (PostgreSQL: "no partition of relation … found for row", a
 * check violation): the partitions ahead of the log were not made in time (the PartitionKeeper's log says why).
 * No row can be written there until one is: the storage cannot serve, it is not the caller's mistake.
 */
function noPartitionFault(message: string): StorageFault | undefined {
  const table = /^no partition of relation "([^"]+)" found for row/.exec(message)?.[1];
  if (table === undefined) return undefined;
  return fault('no-partition', `no partition of table ${table} holds the new row: the partitions ahead of the log are missing (see the partition keeper's log)`, '23514');
}

function networkFault(code: string): StorageFault {
  return fault('unreachable', code === 'ECONNREFUSED' ? 'the database server refuses connections (is it running?)' : 'the database server cannot be reached', code);
}

/** The error to throw for one that may be a storage fault: a StorageUnavailableError when it is, else itself. */
export function asStorageError(error: unknown, outcomeUnknown = false): unknown {
  if (error instanceof StorageUnavailableError) return error;
  const found = storageFault(error);
  return found ? new StorageUnavailableError(found, error, outcomeUnknown) : error;
}

/** A metric read from the database keeps its last values while storage is unavailable: the scrape still answers, with the storage metrics. */
export function readFromStorage<This>(collect: (this: This) => Promise<void>): (this: This) => Promise<void> {
  return async function (this: This) {
    try {
      await collect.call(this);
    } catch (error) {
      if (!storageFault(error)) throw error;
    }
  };
}
