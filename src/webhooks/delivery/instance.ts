import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable } from '@nestjs/common';

/** This running instance: the owner its delivery and subscription leases name, and the id of its heartbeat row. */
@Injectable()
export class ThisInstance {
  readonly host = hostname();
  readonly pid = process.pid;
  /** Unique even for several apps in one process (tests) and across restarts. */
  readonly id = `${this.host}/${this.pid}/${randomUUID().slice(0, 8)}`;
}
