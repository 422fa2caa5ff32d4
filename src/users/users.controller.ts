import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { IsEmail, IsIn, IsOptional, IsString, Length } from 'class-validator';
import type { Metadata } from '../event-store/aggregate-store.js';
import { Actor, CurrentUser, type AuthenticatedUser } from '../shared/request-context.js';
import { AdminOnly } from './auth.guard.js';
import { CreateUserCommand, GetUserQuery } from './users.cqrs.js';

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
}
