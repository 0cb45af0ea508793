import {
  assignmentView,
  explanationView,
  type ExplainAnswer,
  type LearnerAttributesView,
} from '@assigner/contracts';
import {
  assignmentKey,
  decisionCourseOf,
  decisionInputOf,
  emptyUserState,
  explainDecision,
  formatMicros,
  parseIsoMicros,
} from '@assigner/domain';
import {
  ExperimentRepository,
  LearnerAttributesRepository,
  LearnerStateRepository,
} from '@assigner/persistence';
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
import { badRequest, notFound } from '../http/problem';
import { ExperimentNamePipe, ExplainQuery, validQuery } from '../http/request-validation';

@ApiTags('assignments')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No token, or an unknown one' })
@Controller('experiments')
export class ExplainController {
  constructor(
    private readonly experiments: ExperimentRepository,
    private readonly learners: LearnerStateRepository,
    private readonly attributes: LearnerAttributesRepository,
  ) {}

  @Get(':name/explain')
  @ApiOperation({
    summary: 'Why a learner is (or is not) in a bucket',
    description:
      "Runs the decision with the current definition and the learner's stored username and enrollment: the outcome, and each check with its result (main flag rules, enrollment window with the time used, bucket flags, hash group). Also the stored assignment, for comparison.",
  })
  @ApiOkResponse({ description: 'The decision and its steps' })
  @ApiBadRequestResponse({ description: 'Every problem with the query, listed' })
  @ApiNotFoundResponse({ description: 'No such experiment' })
  async explain(
    @Param('name', ExperimentNamePipe) name: string,
    @Query() rawQuery: unknown,
  ): Promise<ExplainAnswer> {
    const query = validQuery(ExplainQuery, rawQuery, (valid) =>
      valid.at !== undefined && parseIsoMicros(valid.at) === undefined
        ? [`query at: ${valid.at} is not a valid time`]
        : [],
    );
    const stored = await this.experiments.get(name);
    if (!stored) throw notFound(`no experiment named ${name}`);
    const { experiment } = stored;
    const courseId = decisionCourseOf(experiment, query.course_id ?? null);
    if (courseId === undefined)
      throw badRequest([`query course_id: ${name} is decided per course, so explain needs one`]);
    const userId = Number(query.user_id);
    const [states, sourced] = await Promise.all([
      this.learners.latestStates([userId]),
      this.attributes.of(userId),
    ]);
    const state = states.get(userId);
    const exported = sourced?.attributes;
    const learnerAttributes: LearnerAttributesView = {
      isStaff: query.is_staff === 'true' || exported?.isStaff === true,
      isSuperuser: exported?.isSuperuser === true,
      source: query.is_staff === 'true' ? 'query' : sourced ? 'lms_export' : 'none',
      ...(sourced?.setBy && {
        loadedBy: sourced.setBy.actor,
        loadedAt: sourced.setBy.at.toISOString(),
        loadedFrom: sourced.setBy.source,
      }),
    };
    const at = query.at === undefined ? Date.now() * 1000 : parseIsoMicros(query.at)!;
    const input = decisionInputOf(state ?? emptyUserState(userId), {
      courseId,
      now: at,
      isStaff: learnerAttributes.isStaff,
      isSuperuser: learnerAttributes.isSuperuser,
    });
    const current = state?.assignments.get(assignmentKey(name, courseId));
    return {
      experiment: name,
      revision: stored.revision,
      archived: stored.archived,
      userId,
      learnerKnown: state !== undefined,
      username: input.username ?? null,
      courseId,
      enrolledAt: input.enrolledAt === undefined ? null : formatMicros(input.enrolledAt),
      at: formatMicros(at),
      learnerAttributes,
      ...explanationView(explainDecision(experiment, input)),
      stored: current ? assignmentView(current) : null,
    };
  }
}
