import { Controller, Get, HttpCode, Module, Post, Query } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, Query as CqrsQuery, QueryBus, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import type { RecordedEvent } from '../event-store/event.js';
import { RecordedEventSchema } from '../event-store/event.schema.js';
import { ProjectionRebuilder } from '../event-store/projection-rebuilder.js';
import { EventStore } from '../event-store/event-store.js';
import { QueryInteger } from '../shared/query-integer.js';
import { AdminOnly } from '../shared/route-access.js';
import { redactEvent } from '../webhooks/config/redact.js';

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

export class RebuildResultSchema {
  @ApiProperty({ description: 'Events replayed.' }) events: number;
  @ApiProperty() durationMs: number;
}

export class RebuildProjectionsCommand extends Command<{ events: number; durationMs: number }> {}

@QueryHandler(ReadEventLogQuery)
export class ReadEventLogHandler implements IQueryHandler<ReadEventLogQuery> {
  constructor(private readonly store: EventStore) {}
  async execute({ after, limit }: ReadEventLogQuery) {
    return (await this.store.readAll(after, limit)).map(redactEvent);
  }
}

@CommandHandler(RebuildProjectionsCommand)
export class RebuildProjectionsHandler implements ICommandHandler<RebuildProjectionsCommand> {
  constructor(private readonly rebuilder: ProjectionRebuilder) {}
  async execute() {
    return this.rebuilder.rebuild();
  }
}

/** The global log for consumers and audits, and the projection rebuild (admins only). */
@ApiTags('admin')
@Controller('api')
@AdminOnly()
export class EventsFeedController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get('events')
  @ApiOperation({ summary: 'The global event log after a position, in order (secrets redacted)' })
  @ApiOkResponse({ type: [RecordedEventSchema] })
  feed(@Query() query: EventFeedQueryDto) {
    return this.queries.execute(new ReadEventLogQuery(query.after ?? 0, query.limit ?? 100));
  }

  @Post('admin/projections/rebuild')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rebuild every read model by replaying the log' })
  @ApiOkResponse({ type: RebuildResultSchema })
  rebuild() {
    return this.commands.execute(new RebuildProjectionsCommand());
  }
}

@Module({ controllers: [EventsFeedController], providers: [ReadEventLogHandler, RebuildProjectionsHandler] })
export class EventsFeedModule {}
