import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Metadata } from '../event-store/aggregate-store.js';
import { notFound } from '../shared/errors.js';
import { UsersService, type UserView } from './users.service.js';

export class CreateUserCommand extends Command<UserView & { token: string }> {
  constructor(
    readonly input: { name: string; email: string; role: 'ADMIN' | 'MEMBER' },
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

export class GetUserQuery extends Query<UserView> {
  constructor(readonly userId: number) {
    super();
  }
}

@QueryHandler(GetUserQuery)
export class GetUserHandler implements IQueryHandler<GetUserQuery> {
  constructor(private readonly users: UsersService) {}
  async execute(query: GetUserQuery) {
    return this.users.get(query.userId) ?? Promise.reject(notFound('user', query.userId));
  }
}
