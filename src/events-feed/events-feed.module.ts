import { Controller, Get, Module, Query } from '@nestjs/common';
import { Query as CqrsQuery, QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import type { RecordedEvent } from '../event-store/event.js';
import { RecordedEventSchema } from '../event-store/event.schema.js';
import { EventStore } from '../event-store/event-store.js';
import { QueryInteger } from '../shared/query-integer.js';
import { AdminOnly } from '../shared/route-access.js';
import { redactEvent } from '../webhooks/config/redact.js';
import { LatestRebuildHandler, ProjectionsRebuildController, RebuildProjectionsHandler } from './projections-rebuild.js';

export class EventFeedQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 0, description: 'Events after this position.' })
  @IsOptional() @QueryInteger(0) after?: number;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 100 })
  @IsOptional() @QueryInteger(1, 1000) limit?: number;
}

export class ReadEventLogQuery extends CqrsQuery<RecordedEvent[]> {
  constructor(
    readonly after: number,
    readonly limit: number,
  ) {
    super();
  }
}

@QueryHandler(ReadEventLogQuery)
export class ReadEventLogHandler implements IQueryHandler<ReadEventLogQuery> {
  constructor(private readonly store: EventStore) {}
  async execute({ after, limit }: ReadEventLogQuery) {
    return (await this.store.readAll(after, limit)).map(redactEvent);
  }
}

/** The global log for consumers and audits (admins only); the projection rebuild is in projections-rebuild.ts. */
@ApiTags('admin')
@Controller('api')
@AdminOnly()
export class EventsFeedController {
  constructor(private readonly queries: QueryBus) {}

  @Get('events')
  @ApiOperation({ summary: 'The global event log after a position, in order (secrets redacted)' })
  @ApiOkResponse({ type: [RecordedEventSchema] })
  feed(@Query() query: EventFeedQueryDto) {
    return this.queries.execute(new ReadEventLogQuery(query.after ?? 0, query.limit ?? 100));
  }
}

@Module({ controllers: [EventsFeedController, ProjectionsRebuildController], providers: [ReadEventLogHandler, RebuildProjectionsHandler, LatestRebuildHandler] })
export class EventsFeedModule {}
