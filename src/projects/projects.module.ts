import { Module } from '@nestjs/common';
import { ProjectsController } from './projects.controller.js';
import { CreateProjectHandler, GetProjectHandler, ListProjectsHandler, RenameProjectHandler } from './projects.cqrs.js';

@Module({
  controllers: [ProjectsController],
  providers: [CreateProjectHandler, RenameProjectHandler, GetProjectHandler, ListProjectsHandler],
})
export class ProjectsModule {}

