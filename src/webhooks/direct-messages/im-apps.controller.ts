import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import type { ImAppTypeInfo, ImAppView, SetImAppInput } from '../../contract/im-apps.js';
import type { Metadata } from '../../event-store/aggregate-store.js';
import { Actor } from '../../http/request-context.js';
import { IdParam } from '../../shared/id-param.js';
import { ApiProblem } from '../../shared/openapi.js';
import { ForProject } from '../../shared/route-access.js';
import { IM_APP_TYPES, imAppTypeInfos } from './im-app-types.js';
import { ListImAppsQuery, RemoveImAppCommand, SetImAppCommand } from './im-app.commands.js';

export class SetImAppDto implements SetImAppInput {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Every credential the vendor’s API needs (`GET /api/im-app-types` names them). Stored sealed, never shown again.' })
  @IsObject() credentials: Record<string, string>;
  @ApiPropertyOptional({ maxLength: 2048, description: 'Where the vendor’s API is reached (a regional endpoint, a proxy); absent: the vendor’s public API. Checked like a webhook URL.' })
  @IsOptional() @IsString() @MaxLength(2048) apiBase?: string;
}

export class ImAppSchema implements ImAppView {
  @ApiProperty() projectId: number;
  @ApiProperty({ enum: IM_APP_TYPES }) type: ImAppView['type'];
  @ApiProperty() apiBase: string;
  @ApiProperty({ type: [String], description: 'The credentials set (never their values).' }) credentials: string[];
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

class ImAppCredentialSchema {
  @ApiProperty() name: string;
  @ApiProperty() description: string;
}

export class ImAppTypeSchema implements ImAppTypeInfo {
  @ApiProperty({ enum: IM_APP_TYPES }) type: ImAppTypeInfo['type'];
  @ApiProperty() displayName: string;
  @ApiProperty({ type: [ImAppCredentialSchema], description: 'The credentials its vendor’s API needs.' }) credentials: ImAppCredentialSchema[];
  @ApiProperty() defaultApiBase: string;
  @ApiProperty({ description: 'How it finds a person.' }) finds: string;
}

/** A project's IM apps, which send its webhooks' direct messages: OWNERs (and admins) only, audited in the project's stream. */
@ApiTags('im-apps')
@Controller('api/projects/:projectId/im-apps')
@ForProject('owner')
export class ImAppsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List the project’s IM apps (credentials never shown)' })
  @ApiOkResponse({ type: [ImAppSchema] })
  list(@IdParam('projectId') projectId: number): Promise<ImAppView[]> {
    return this.queries.execute(new ListImAppsQuery(projectId));
  }

  @Put(':type')
  @ApiOperation({ summary: 'Set the project’s IM app of a type (every credential again)' })
  @ApiOkResponse({ type: ImAppSchema })
  @ApiProblem(400, 'A credential missing or of the wrong shape, one the vendor does not take, or an API base the outbound rules refuse: each field named.')
  set(@IdParam('projectId') projectId: number, @Param('type') type: string, @Body() body: SetImAppDto, @Actor() actor: Metadata): Promise<ImAppView> {
    return this.commands.execute(new SetImAppCommand(projectId, type, body, actor));
  }

  @Delete(':type')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove the project’s IM app of a type (its webhooks’ people are mentioned in the channel again)' })
  @ApiNoContentResponse()
  async remove(@IdParam('projectId') projectId: number, @Param('type') type: string, @Actor() actor: Metadata): Promise<void> {
    await this.commands.execute(new RemoveImAppCommand(projectId, type, actor));
  }
}

/** What each IM app type needs: readable by every signed-in user. */
@ApiTags('im-apps')
@Controller('api/im-app-types')
export class ImAppTypesController {
  @Get()
  @ApiOperation({ summary: 'The IM app types: the credentials each vendor’s API needs, its default API base, how it finds a person' })
  @ApiOkResponse({ type: [ImAppTypeSchema] })
  types(): ImAppTypeInfo[] {
    return imAppTypeInfos();
  }
}
