import { Module } from '@nestjs/common';
import { IssuesController } from './issues.controller.js';
import {
  ChangeIssueStatusHandler,
  ChangeTaskStatusHandler,
  CreateCommentHandler,
  CreateIssueHandler,
  DecideApprovalHandler,
  EditCommentHandler,
  GetIssueEventsHandler,
  GetIssueHandler,
  ListCommentsHandler,
  ListIssuesHandler,
  UpdateIssueHandler,
} from './issues.cqrs.js';

@Module({
  controllers: [IssuesController],
  providers: [
    CreateIssueHandler,
    UpdateIssueHandler,
    ChangeIssueStatusHandler,
    ChangeTaskStatusHandler,
    CreateCommentHandler,
    DecideApprovalHandler,
    EditCommentHandler,
    GetIssueHandler,
    ListIssuesHandler,
    ListCommentsHandler,
    GetIssueEventsHandler,
  ],
})
export class IssuesModule {}
