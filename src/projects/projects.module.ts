import { Module } from '@nestjs/common';
import { ProjectsController } from './projects.controller.js';
import { CreateProjectHandler, GetProjectHandler, ListMembersHandler, ListProjectsHandler, RemoveMemberHandler, RenameProjectHandler, SetMemberHandler } from './projects.cqrs.js';

@Module({
  controllers: [ProjectsController],
  providers: [CreateProjectHandler, RenameProjectHandler, GetProjectHandler, ListProjectsHandler, SetMemberHandler, RemoveMemberHandler, ListMembersHandler],
})
export class ProjectsModule {}

