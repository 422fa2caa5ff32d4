import { Controller, Get, Header, HttpCode, Post } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, Query, QueryBus, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Metadata } from '../event-store/aggregate-store.js';
import { ProjectionRebuilder } from '../event-store/projection-rebuilder.js';
import type { RebuildStatus } from '../event-store/rebuild-record.js';
import { Actor } from '../http/request-context.js';
import { notFound } from '../shared/errors.js';
import { ApiProblem } from '../shared/openapi.js';
import { AdminOnly } from '../shared/route-access.js';

const PROGRESS_ROUTE = '/api/admin/projections/rebuild';

export class RebuildStatusSchema implements RebuildStatus {
  @ApiProperty() id: string;
  @ApiProperty({ description: '1 for the database’s first rebuild, 2 for the next…' }) number: number;
  @ApiProperty({ enum: ['running', 'done', 'failed', 'interrupted'], description: '`interrupted`: its process stopped (or has said nothing for 30 s) before it finished. Until a rebuild is `done` the read models are the ones before it.' })
  state: RebuildStatus['state'];
  @ApiProperty({
    description:
      'What it is doing: `preparing the shadow tables`, `replaying the log`, `writing the read models`, `catching up with the events appended meanwhile`, `swapping in the new read models`, `removing the old read models`, `done`.',
  })
  phase: string;
  @ApiProperty({ description: 'How far the phase got: events replayed, or streams whose rows are written.' }) done: number;
  @ApiProperty({ description: 'Of about how many (the log grows meanwhile).' }) total: number;
  @ApiProperty({ description: '`admin:<user id>`, `start-up` (read models built by an older version) or `cli`.' }) requestedBy: string;
  @ApiProperty({ description: 'The process that runs it (host:pid).' }) instance: string;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty({ format: 'date-time', description: 'Its last word (at least once a second while it runs).' }) updatedAt: string;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true }) finishedAt: string | null;
  @ApiProperty({ type: 'integer', nullable: true }) durationMs: number | null;
  @ApiProperty({ type: 'string', nullable: true, description: 'Why it failed or stopped.' }) error: string | null;
}

export class RebuildProjectionsCommand extends Command<RebuildStatus> {
  constructor(readonly actor: Metadata) {
    super();
  }
}

export class LatestRebuildQuery extends Query<RebuildStatus> {}

@CommandHandler(RebuildProjectionsCommand)
export class RebuildProjectionsHandler implements ICommandHandler<RebuildProjectionsCommand> {
  constructor(private readonly rebuilder: ProjectionRebuilder) {}
  async execute({ actor }: RebuildProjectionsCommand) {
    // it runs on in the background (its progress: LatestRebuildQuery); a failure is in its status and the log
    return (await this.rebuilder.start({ requestedBy: `admin:${actor.actorId}` })).status;
  }
}

@QueryHandler(LatestRebuildQuery)
export class LatestRebuildHandler implements IQueryHandler<LatestRebuildQuery> {
  constructor(private readonly rebuilder: ProjectionRebuilder) {}
  async execute() {
    return (await this.rebuilder.latest()) ?? Promise.reject(notFound('rebuild', 'of the read models'));
  }
}

/**
 * Rebuilding the read models through the running service: started here, run in the
 * background in slices (the service keeps answering and taking commands; readers see the
 * old read models until the new ones are swapped in), followed at the same path.
 */
@ApiTags('admin')
@Controller('api/admin/projections')
@AdminOnly()
export class ProjectionsRebuildController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('rebuild')
  @HttpCode(202)
  @Header('location', PROGRESS_ROUTE)
  @ApiOperation({
    summary: 'Rebuild every read model by replaying the log, in the background',
    description: `Answers at once with the rebuild's status; follow it with GET ${PROGRESS_ROUTE} until its state is \`done\`.`,
  })
  @ApiAcceptedResponse({ type: RebuildStatusSchema, description: 'Started.' })
  @ApiProblem(409, 'A rebuild is running already (here, on another instance or from the command line): its status is in the detail.')
  rebuild(@Actor() actor: Metadata) {
    return this.commands.execute(new RebuildProjectionsCommand(actor));
  }

  @Get('rebuild')
  @ApiOperation({ summary: 'The latest rebuild of the read models: running (how far it got) or how it ended' })
  @ApiOkResponse({ type: RebuildStatusSchema })
  @ApiProblem(404, 'No rebuild has run on this database.')
  latest() {
    return this.queries.execute(new LatestRebuildQuery());
  }
}
