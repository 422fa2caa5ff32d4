import { Module } from '@nestjs/common';
import { ProjectsController } from './projects.controller.js';
import { CreateProjectHandler, GetProjectHandler, ListMembersHandler, ListProjectsHandler, ProjectAuditHandler, RemoveMemberHandler, UpdateProjectHandler, SetMemberHandler } from './projects.cqrs.js';

@Module({
  controllers: [ProjectsController],
  providers: [CreateProjectHandler, UpdateProjectHandler, GetProjectHandler, ListProjectsHandler, SetMemberHandler, RemoveMemberHandler, ListMembersHandler, ProjectAuditHandler],
})
export class ProjectsModule {}

