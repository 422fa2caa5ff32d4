import { ArgumentsHost, Catch, Logger, Optional, type ExceptionFilter } from '@nestjs/common';
import { STORAGE_UNAVAILABLE_PROBLEM } from '../database/storage-errors.js';
import { StorageHealth } from '../database/storage-health.js';
import { sendProblem, toProblem } from './problem.js';

/** Every error a route (or a guard, a pipe, the body parser) raises leaves as application/problem+json. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(@Optional() private readonly storage?: StorageHealth) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const found = toProblem(error);
    const reply = host.switchToHttp().getResponse();
    const request = host.switchToHttp().getRequest();
    if (found.type === STORAGE_UNAVAILABLE_PROBLEM) {
      // counted, not logged: StorageHealth logs the outage once, when it starts and when it ends
      if (this.storage) found.retryAfter = this.storage.refused(String(request?.method));
    } else if (found.status >= 500) {
      this.logger.error({ err: error, method: request?.method, url: request?.url }, 'request failed');
    }
    sendProblem(reply, found);
  }
}

// the mapping itself lives in problem.ts; re-exported for code that imported it from here
export { ValidationFailed, toProblem, type Problem } from './problem.js';
