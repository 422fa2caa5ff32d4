import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import type { FilterTrialItem, FilterTrialView } from '../../contract/webhooks.js';
import { streamIdOf } from '../../event-store/aggregate-store.js';
import type { Evolving } from '../../event-store/event.js';
import { EventStore } from '../../event-store/event-store.js';
import type { IssueEvent } from '../../issues/issue.events.js';
import { issueAggregate } from '../../issues/issue.projection.js';
import { initialIssueState, type IssueState } from '../../issues/issue.state.js';
import { invalid, notFound } from '../../shared/errors.js';
import { TimeSlice } from '../../shared/time-slice.js';
import { pipelineOf } from '../decisions/decide.js';
import { EventActivities } from '../subscription/event-activities.js';
import { FILTER_BUDGET } from './budget.js';
import { compileFilter, FILTER_VARIABLE_BOUNDS, filterProblem, filterSubject, isProblem, measureFilter } from './filter.js';
import { worstCaseCost } from './worst-case-cost.js';

export class TryFilterQuery extends Query<FilterTrialView> {
  constructor(
    readonly projectId: number,
    readonly filter: string,
    readonly limit = 20,
  ) {
    super();
  }
}

/**
 * A filter tried before it is saved: judged as saving would judge it (a 400 naming the
 * position and the problem), then evaluated on the project's last activities, each mapped
 * from the log with its issue as it was at the event, the way the scheduler maps it.
 */
@QueryHandler(TryFilterQuery)
export class TryFilterHandler implements IQueryHandler<TryFilterQuery> {
  constructor(
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {}

  async execute({ projectId, filter, limit }: TryFilterQuery): Promise<FilterTrialView> {
    const problem = filterProblem(filter);
    if (problem) {
      const message = `at position ${problem.position}: ${problem.message}`;
      throw invalid(`filter: ${message}`, [{ field: 'filter', message }]);
    }
    const compiled = compileFilter(filter);
    if (isProblem(compiled)) throw new Error('a filter that passed the check did not compile');
    const project = await this.store.queryOne<{ id: number; name: string }>(`SELECT id, name FROM rm_projects WHERE id = ?`, [projectId]);
    if (!project) throw notFound('project', projectId);
    // the last activities are among those of the issues changed last
    const issues = await this.store.query<{ id: number }>(`SELECT id FROM rm_issues WHERE project_id = ? ORDER BY updated_at DESC, id DESC LIMIT ?`, [projectId, limit]);
    const activities = new EventActivities(this.store, this.config);
    const slice = new TimeSlice();
    const items: FilterTrialItem[] = [];
    for (const { id } of issues) {
      let issue: IssueState = initialIssueState;
      for (const event of await this.store.readStream(streamIdOf(issueAggregate.kind, Number(id)))) {
        const before = issue;
        issue = issueAggregate.evolve(issue, event as unknown as Evolving<IssueEvent>);
        const activity = await activities.activityOf(event, before, issue, { id: project.id, name: project.name }).catch(() => null);
        if (!activity) continue;
        const { outcome, steps } = measureFilter(filter, filterSubject(activity, pipelineOf(event, issue)));
        items.push({ position: event.position, occurredAt: event.occurredAt, issueId: Number(id), activityType: activity.type, title: activity.title, ...outcome, steps });
        await slice.pause();
      }
    }
    items.sort((a, b) => b.position - a.position);
    return { budget: FILTER_BUDGET, worstCaseSteps: Math.ceil(worstCaseCost(compiled.ast, FILTER_VARIABLE_BOUNDS)), items: items.slice(0, limit) };
  }
}
