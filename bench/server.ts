/**
 * The service plus no-I/O twins of the two routes (b) measures, for the HTTP benchmark (run as a child process).
 * A twin takes the same path, the same guard (bearer token, project access), the same parameter pipes and the
 * same request class (validation included) as its route, and is sent the same body: it differs only in doing
 * no command (no event store, no SQLite), answering with the body it validated.
 */
import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.js';
import type { Metadata } from '../src/event-store/aggregate-store.js';
import { Actor } from '../src/http/request-context.js';
import { CommentDto, CreateIssueDto } from '../src/issues/dto/issue.dto.js';
import { IdParam } from '../src/shared/id-param.js';
import { ForProject } from '../src/shared/route-access.js';

@Controller('bench/noop')
@ForProject('member')
class NoopController {
  @Post('projects/:projectId/issues')
  @HttpCode(201)
  createIssue(@IdParam('projectId') projectId: number, @Body() body: CreateIssueDto, @Actor() actor: Metadata) {
    return { projectId, actorId: actor.actorId, ...body };
  }

  @Post('issues/:issueId/comments')
  @HttpCode(201)
  comment(@IdParam('issueId') issueId: number, @Body() body: CommentDto, @Actor() actor: Metadata) {
    return { issueId, actorId: actor.actorId, ...body };
  }
}

@Module({ controllers: [NoopController] })
class NoopModule {}

const config = loadConfig();
const { app } = await createApp(config, { extraModules: [NoopModule] });
await app.listen(config.port, '127.0.0.1');
process.send?.('ready');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
