import { Controller, Get, HttpException } from '@nestjs/common';
import { SqliteEventStore } from '../event-store/sqlite-event-store.js';
import { Public } from '../users/auth.guard.js';

@Controller('health')
@Public()
export class HealthController {
  constructor(private readonly store: SqliteEventStore) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  ready() {
    try {
      return { status: 'ok', head: this.store.head() };
    } catch (error) {
      throw new HttpException(`database unreachable: ${(error as Error).message}`, 503);
    }
  }
}
