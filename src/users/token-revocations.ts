import { Injectable } from '@nestjs/common';

/** A generation counter: bumped by every revocation, so cached token lookups made before it are not trusted. */
@Injectable()
export class TokenRevocations {
  generation = 0;

  revoked(): void {
    this.generation++;
  }
}
