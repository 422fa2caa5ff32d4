import { Module } from '@nestjs/common';
import { UsersController } from './users.controller.js';
import { CreateUserHandler, GetUserHandler, IssueTokenHandler, ListTokensHandler, RevokeTokenHandler, SetContactHandler } from './users.cqrs.js';
import { UsersService } from './users.service.js';

@Module({
  controllers: [UsersController],
  providers: [UsersService, CreateUserHandler, SetContactHandler, GetUserHandler, IssueTokenHandler, RevokeTokenHandler, ListTokensHandler],
  exports: [UsersService],
})
export class UsersModule {}
