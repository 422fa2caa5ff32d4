import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ContactDto } from './contact.dto.js';
import { IdParam } from '../shared/id-param.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ApiProblem } from '../shared/openapi.js';
import { CreatedUserSchema, IssuedTokenSchema, TokenSchema, UserSchema } from './user.schemas.js';
import { IsEmail, IsIn, IsOptional, IsString, Length } from 'class-validator';
import type { Metadata } from '../event-store/aggregate-store.js';
import { Actor, CurrentUser, type AuthenticatedUser } from '../http/request-context.js';
import { AdminOnly } from '../shared/route-access.js';
import { notFound } from '../shared/errors.js';
import { CreateUserCommand, GetUserQuery, IssueTokenCommand, ListTokensQuery, RevokeTokenCommand, SetContactCommand } from './users.cqrs.js';

export class CreateUserDto extends ContactDto {
  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString() @Length(1, 200) name: string;
  @ApiProperty({ format: 'email', minLength: 3, maxLength: 320, description: 'Unique, case-insensitively.' })
  @IsEmail() @Length(3, 320) email: string;
  @ApiPropertyOptional({ enum: ['ADMIN', 'MEMBER'], default: 'MEMBER' })
  @IsOptional() @IsIn(['ADMIN', 'MEMBER']) role?: 'ADMIN' | 'MEMBER';
}

@ApiTags('users')
@Controller('api/users')
export class UsersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(201)
  @AdminOnly()
  @ApiOperation({ summary: 'Create a user, with a first API token' })
  @ApiCreatedResponse({ type: CreatedUserSchema })
  @ApiProblem(409, 'A user with this email exists.')
  create(@Body() body: CreateUserDto, @Actor() actor: Metadata) {
    const { phone, slackMemberId, wecomUserId } = body;
    return this.commands.execute(new CreateUserCommand({ name: body.name, email: body.email, role: body.role ?? 'MEMBER', phone, slackMemberId, wecomUserId }, actor));
  }

  @Get('me')
  @ApiOperation({ summary: 'The caller' })
  @ApiOkResponse({ type: UserSchema })
  me(@CurrentUser() user: AuthenticatedUser) {
    return this.queries.execute(new GetUserQuery(user.id));
  }

  /** Tokens are managed by their user or an admin; to anyone else the user does not exist. */
  private own(user: AuthenticatedUser, userId: number): void {
    if (user.role !== 'ADMIN' && user.id !== userId) throw notFound('user', userId);
  }

  @Patch(':userId')
  @ApiOperation({
    summary: 'Change a user’s contact handles (the user themself, or an admin)',
    description: 'The handles webhook messages mention the user by (Feishu/Lark mention by email). To anyone else the user does not exist (404).',
  })
  @ApiOkResponse({ type: UserSchema })
  @ApiProblem(403, 'The user is the System Bot.')
  setContact(@IdParam('userId') userId: number, @Body() body: ContactDto, @CurrentUser() user: AuthenticatedUser, @Actor() actor: Metadata) {
    this.own(user, userId);
    return this.commands.execute(new SetContactCommand(userId, { phone: body.phone, slackMemberId: body.slackMemberId, wecomUserId: body.wecomUserId }, actor));
  }

  @Post(':userId/tokens')
  @HttpCode(201)
  @ApiOperation({ summary: 'Issue another API token (the user themself, or an admin)', description: 'To anyone else the user does not exist (404).' })
  @ApiCreatedResponse({ type: IssuedTokenSchema })
  @ApiProblem(403, 'The user is the System Bot, which has no tokens.')
  issueToken(@IdParam('userId') userId: number, @CurrentUser() user: AuthenticatedUser, @Actor() actor: Metadata) {
    this.own(user, userId);
    return this.commands.execute(new IssueTokenCommand(userId, actor));
  }

  @Get(':userId/tokens')
  @ApiOperation({ summary: 'List a user’s tokens (ids only: tokens are never shown again)' })
  @ApiOkResponse({ type: [TokenSchema] })
  tokens(@IdParam('userId') userId: number, @CurrentUser() user: AuthenticatedUser) {
    this.own(user, userId);
    return this.queries.execute(new ListTokensQuery(userId));
  }

  @Delete(':userId/tokens/:tokenId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a token (it stops working at once)' })
  @ApiNoContentResponse({ description: 'Revoked.' })
  async revokeToken(
    @IdParam('userId') userId: number,
    @IdParam('tokenId') tokenId: number,
    @CurrentUser() user: AuthenticatedUser,
    @Actor() actor: Metadata,
  ) {
    this.own(user, userId);
    await this.commands.execute(new RevokeTokenCommand(userId, tokenId, actor));
  }
}
