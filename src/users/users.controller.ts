import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { IsEmail, IsIn, IsOptional, IsString, Length } from 'class-validator';
import type { Metadata } from '../event-store/aggregate-store.js';
import { Actor, CurrentUser, type AuthenticatedUser } from '../shared/request-context.js';
import { AdminOnly } from './auth.guard.js';
import { notFound } from '../shared/errors.js';
import { CreateUserCommand, GetUserQuery, IssueTokenCommand, ListTokensQuery, RevokeTokenCommand } from './users.cqrs.js';

export class CreateUserDto {
  @IsString() @Length(1, 200) name: string;
  @IsEmail() @Length(3, 320) email: string;
  @IsOptional() @IsIn(['ADMIN', 'MEMBER']) role?: 'ADMIN' | 'MEMBER';
}

@Controller('api/users')
export class UsersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(201)
  @AdminOnly()
  create(@Body() body: CreateUserDto, @Actor() actor: Metadata) {
    return this.commands.execute(new CreateUserCommand({ name: body.name, email: body.email, role: body.role ?? 'MEMBER' }, actor));
  }

  @Get('me')
  me(@CurrentUser() user: AuthenticatedUser) {
    return this.queries.execute(new GetUserQuery(user.id));
  }

  /** Tokens are managed by their user or an admin; to anyone else the user does not exist. */
  private own(user: AuthenticatedUser, userId: number): void {
    if (user.role !== 'ADMIN' && user.id !== userId) throw notFound('user', userId);
  }

  @Post(':userId/tokens')
  @HttpCode(201)
  issueToken(@Param('userId', ParseIntPipe) userId: number, @CurrentUser() user: AuthenticatedUser, @Actor() actor: Metadata) {
    this.own(user, userId);
    return this.commands.execute(new IssueTokenCommand(userId, actor));
  }

  @Get(':userId/tokens')
  tokens(@Param('userId', ParseIntPipe) userId: number, @CurrentUser() user: AuthenticatedUser) {
    this.own(user, userId);
    return this.queries.execute(new ListTokensQuery(userId));
  }

  @Delete(':userId/tokens/:tokenId')
  @HttpCode(204)
  async revokeToken(
    @Param('userId', ParseIntPipe) userId: number,
    @Param('tokenId', ParseIntPipe) tokenId: number,
    @CurrentUser() user: AuthenticatedUser,
    @Actor() actor: Metadata,
  ) {
    this.own(user, userId);
    await this.commands.execute(new RevokeTokenCommand(userId, tokenId, actor));
  }
}
