import { assignmentView, type AssignmentView } from '@assigner/contracts';
import type { AssignmentRecord } from '@assigner/domain';
import { ExperimentRepository, LearnerStateRepository } from '@assigner/persistence';
import { Controller, Get, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { notFound } from '../http/problem';
import {
  ExperimentLearnerQuery,
  ExperimentNamePipe,
  LearnerQuery,
  oneLearner,
  validQuery,
} from '../http/request-validation';

/**
 * Lookups read the learners' latest stored states, the same documents the worker decides on,
 * so they are exact the moment a batch is stored.
 */
@ApiTags('assignments')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No token, or an unknown one' })
@ApiBadRequestResponse({ description: 'Every problem with the query, listed' })
@Controller()
export class AssignmentsController {
  constructor(
    private readonly experiments: ExperimentRepository,
    private readonly learners: LearnerStateRepository,
  ) {}

  @Get('assignments')
  @ApiOperation({ summary: "All of one learner's assignments, across experiments" })
  @ApiOkResponse({ description: '{ assignments: [...] }, each with its bucket history' })
  async ofLearner(@Query() rawQuery: unknown): Promise<{ assignments: AssignmentView[] }> {
    const query = validQuery(LearnerQuery, rawQuery, oneLearner);
    return { assignments: (await this.assignmentsOf(query)).map(assignmentView) };
  }

  @Get('experiments/:name/assignments')
  @ApiOperation({ summary: "One learner's assignments in one experiment, optionally one course" })
  @ApiOkResponse({ description: '{ assignments: [...] }' })
  @ApiNotFoundResponse({ description: 'No such experiment' })
  async inExperiment(
    @Param('name', ExperimentNamePipe) name: string,
    @Query() rawQuery: unknown,
  ): Promise<{ assignments: AssignmentView[] }> {
    const query = validQuery(ExperimentLearnerQuery, rawQuery, oneLearner);
    if (!(await this.experiments.get(name))) throw notFound(`no experiment named ${name}`);
    const assignments = (await this.assignmentsOf(query)).filter(
      (assignment) =>
        assignment.experiment === name &&
        (query.course_id === undefined || assignment.courseId === query.course_id),
    );
    return { assignments: assignments.map(assignmentView) };
  }

  private async assignmentsOf(query: LearnerQuery): Promise<AssignmentRecord[]> {
    const userIds =
      query.user_id !== undefined
        ? [Number(query.user_id)]
        : await this.learners.learnersNamed(query.username!);
    const states = await this.learners.latestStates(userIds);
    return [...states.values()]
      .flatMap((state) => [...state.assignments.values()])
      .sort(
        (a, b) =>
          a.experiment.localeCompare(b.experiment) ||
          (a.courseId ?? '').localeCompare(b.courseId ?? '') ||
          a.userId - b.userId,
      );
  }
}
