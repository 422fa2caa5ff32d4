import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Metadata } from '../event-store/aggregate-store.js';
import { notFound } from '../shared/errors.js';
import { UsersService, type UserView } from './users.service.js';
import type { Contact } from './user.events.js';

export class CreateUserCommand extends Command<UserView & { token: string }> {
  constructor(
    readonly input: { name: string; email: string; role: 'ADMIN' | 'MEMBER' } & Partial<Contact>,
    readonly metadata: Metadata,
  ) {
    super();
  }
}

@CommandHandler(CreateUserCommand)
export class CreateUserHandler implements ICommandHandler<CreateUserCommand> {
  constructor(private readonly users: UsersService) {}
  execute(command: CreateUserCommand) {
    return this.users.createUser(command.input, command.metadata);
  }
}

export class SetContactCommand extends Command<UserView> {
  constructor(
    readonly userId: number,
    readonly changes: Partial<Contact>,
    readonly metadata: Metadata,
  ) {
    super();
  }
}

@CommandHandler(SetContactCommand)
export class SetContactHandler implements ICommandHandler<SetContactCommand> {
  constructor(private readonly users: UsersService) {}
  execute({ userId, changes, metadata }: SetContactCommand) {
    return this.users.setContact(userId, changes, metadata);
  }
}

export class GetUserQuery extends Query<UserView> {
  constructor(readonly userId: number) {
    super();
  }
}

@QueryHandler(GetUserQuery)
export class GetUserHandler implements IQueryHandler<GetUserQuery> {
  constructor(private readonly users: UsersService) {}
  async execute(query: GetUserQuery) {
    return (await this.users.get(query.userId)) ?? Promise.reject(notFound('user', query.userId));
  }
}

export class IssueTokenCommand extends Command<{ id: number; token: string; createdAt: string }> {
  constructor(
    readonly userId: number,
    readonly metadata: Metadata,
  ) {
    super();
  }
}

export class RevokeTokenCommand extends Command<void> {
  constructor(
    readonly userId: number,
    readonly tokenId: number,
    readonly metadata: Metadata,
  ) {
    super();
  }
}

export class ListTokensQuery extends Query<{ id: number; createdAt: string }[]> {
  constructor(readonly userId: number) {
    super();
  }
}

@CommandHandler(IssueTokenCommand)
export class IssueTokenHandler implements ICommandHandler<IssueTokenCommand> {
  constructor(private readonly users: UsersService) {}
  execute({ userId, metadata }: IssueTokenCommand) {
    return this.users.issueToken(userId, metadata);
  }
}

@CommandHandler(RevokeTokenCommand)
export class RevokeTokenHandler implements ICommandHandler<RevokeTokenCommand> {
  constructor(private readonly users: UsersService) {}
  execute({ userId, tokenId, metadata }: RevokeTokenCommand) {
    return this.users.revokeToken(userId, tokenId, metadata);
  }
}

@QueryHandler(ListTokensQuery)
export class ListTokensHandler implements IQueryHandler<ListTokensQuery> {
  constructor(private readonly users: UsersService) {}
  async execute({ userId }: ListTokensQuery) {
    return this.users.listTokens(userId);
  }
}
