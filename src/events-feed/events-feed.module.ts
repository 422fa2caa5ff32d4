import { Controller, Get, HttpCode, Module, Post, Query } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, Query as CqrsQuery, QueryBus, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { RecordedEvent } from '../event-store/event.js';
import { ProjectionRebuilder } from '../event-store/projection-rebuilder.js';
import { SqliteEventStore } from '../event-store/sqlite-event-store.js';
import { AdminOnly } from '../users/auth.guard.js';
import { redactEvent } from '../webhooks/config/redact.js';

export class EventFeedQueryDto {
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) after?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

export class ReadEventLogQuery extends CqrsQuery<RecordedEvent[]> {
  constructor(
    readonly after: number,
    readonly limit: number,
  ) {
    super();
  }
}

export class RebuildProjectionsCommand extends Command<{ events: number; durationMs: number }> {}

@QueryHandler(ReadEventLogQuery)
export class ReadEventLogHandler implements IQueryHandler<ReadEventLogQuery> {
  constructor(private readonly store: SqliteEventStore) {}
  async execute({ after, limit }: ReadEventLogQuery) {
    return this.store.readAll(after, limit).map(redactEvent);
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
@Controller('api')
@AdminOnly()
export class EventsFeedController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get('events')
  feed(@Query() query: EventFeedQueryDto) {
    return this.queries.execute(new ReadEventLogQuery(query.after ?? 0, query.limit ?? 100));
  }

  @Post('admin/projections/rebuild')
  @HttpCode(200)
  rebuild() {
    return this.commands.execute(new RebuildProjectionsCommand());
  }
}

@Module({ controllers: [EventsFeedController], providers: [ReadEventLogHandler, RebuildProjectionsHandler] })
export class EventsFeedModule {}
