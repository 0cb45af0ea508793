import {
  applyMergePatch,
  problemsOfExperimentSet,
  validateExperiment,
  withBucketVersionStarts,
  type ExperimentView,
  type RevisionView,
} from '@assigner/contracts';
import { namespacedName, type Experiment } from '@assigner/domain';
import {
  ExperimentRepository,
  type StoredExperiment,
  type WriteResult,
} from '@assigner/persistence';
import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPreconditionFailedResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Actor, EditorOnly } from '../auth/access';
import {
  etagOf,
  preconditionOf,
  preconditionRequired,
  staleWrite,
  type Precondition,
} from '../http/etag';
import { badRequest, notFound, ProblemException } from '../http/problem';
import { ExperimentNamePipe, ListExperimentsQuery, validQuery } from '../http/request-validation';
import { experimentView, revisionView, type WriteAnswer } from './experiment-views';

const DEFINITION_SCHEMA = {
  type: 'object',
  description:
    'An experiment definition, the shape `assigner experiments apply` takes (see the README); unknown fields are rejected',
  example: {
    namespace: 'course_experience',
    name: 'animated_exy',
    experimentId: 7,
    numBuckets: 2,
    flag: { everyone: true, courses: { 'course-v1:MITx+6.00x+2026': 'off' } },
    bucketFlags: { '1': { users: ['carol'] } },
    keyValues: { enrollment_start: '2026-02-01', enrollment_end: '2026-06-01' },
  },
};

const JSON_TYPES = ['application/json', 'application/merge-patch+json'];

@ApiTags('experiments')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No token, or an unknown one (problem+json)' })
@Controller('experiments')
export class ExperimentsController {
  constructor(private readonly experiments: ExperimentRepository) {}

  @Get()
  @ApiOperation({ summary: 'List experiments (archived ones with include_archived=true)' })
  @ApiOkResponse({ description: '{ experiments: [...] }' })
  async list(@Query() rawQuery: unknown): Promise<{ experiments: ExperimentView[] }> {
    const query = validQuery(ListExperimentsQuery, rawQuery);
    const stored = await this.experiments.list();
    return {
      experiments: stored
        .filter(({ archived }) => query.include_archived === 'true' || !archived)
        .map((item) => experimentView(namespacedName(item.experiment), item)),
    };
  }

  @Get(':name')
  @ApiOperation({ summary: 'One experiment; its ETag is what If-Match takes for a change' })
  @ApiOkResponse({ description: 'The experiment, with an ETag header' })
  @ApiNotFoundResponse({ description: 'No such experiment' })
  async get(
    @Param('name', ExperimentNamePipe) name: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ExperimentView> {
    const stored = await this.existing(name);
    response.setHeader('ETag', etagOf(stored.revision));
    return experimentView(name, stored);
  }

  @Put(':name')
  @EditorOnly()
  @ApiOperation({
    summary: 'Create or replace an experiment',
    description:
      'Creating needs no precondition (or If-None-Match: *); replacing needs If-Match with the ETag last read (428 without, 412 when stale). The archived state is kept.',
  })
  @ApiHeader({ name: 'If-Match', required: false, description: 'The ETag last read, e.g. "3"' })
  @ApiHeader({ name: 'If-None-Match', required: false, description: '"*": create only' })
  @ApiBody({ schema: DEFINITION_SCHEMA })
  @ApiCreatedResponse({ description: 'Created' })
  @ApiOkResponse({ description: 'Replaced, or unchanged when identical' })
  @ApiForbiddenResponse({ description: 'A reader token' })
  @ApiPreconditionFailedResponse({ description: 'If-Match is stale' })
  @ApiConflictResponse({ description: 'Created by someone else meanwhile' })
  async put(
    @Param('name', ExperimentNamePipe) name: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Actor() actor: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<WriteAnswer> {
    const precondition = preconditionOf(ifMatch, ifNoneMatch);
    const defined = this.definitionOf(name, jsonBody(request, body), 'body');
    const { warnings } = defined;
    const stored = await this.experiments.get(name);
    const experiment = withBucketVersionStarts(defined.experiment, stored?.experiment, new Date());
    await this.fitsWithOthers(experiment);
    let expected: number | 'absent' | undefined;
    if (precondition.kind === 'revision') expected = precondition.revision;
    else if (precondition.kind === 'absent' || precondition.kind === 'none') expected = 'absent';
    else {
      const current = await this.experiments.get(name);
      if (!current) throw staleWrite(name, undefined, HttpStatus.PRECONDITION_FAILED);
      expected = current.revision;
    }
    const result = await this.experiments.save(experiment, { actor, expected });
    if (result.outcome === 'conflict' && precondition.kind === 'none' && result.current)
      throw preconditionRequired(name, result.current.revision);
    return this.answer(name, result, precondition, response, warnings);
  }

  @Patch(':name')
  @EditorOnly()
  @ApiOperation({
    summary: 'Change part of an experiment (JSON merge patch, RFC 7396)',
    description:
      'e.g. {"flag": {"courses": {"course-v1:MITx+6.00x+2026": "on"}}} sets a course override; null removes a key. Needs If-Match.',
  })
  @ApiHeader({ name: 'If-Match', required: true, description: 'The ETag last read, e.g. "3"' })
  @ApiBody({ schema: { type: 'object', description: 'A merge patch of the definition' } })
  @ApiOkResponse({ description: 'The changed experiment' })
  @ApiForbiddenResponse({ description: 'A reader token' })
  @ApiNotFoundResponse({ description: 'No such experiment' })
  @ApiPreconditionFailedResponse({ description: 'If-Match is stale' })
  async patch(
    @Param('name', ExperimentNamePipe) name: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Actor() actor: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<WriteAnswer> {
    const precondition = preconditionOf(ifMatch, undefined);
    const patch = jsonBody(request, body);
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
      throw badRequest(['body: must be a JSON object (a merge patch)']);
    const current = await this.existing(name);
    if (precondition.kind !== 'revision' && precondition.kind !== 'exists')
      throw preconditionRequired(name, current.revision);
    if (precondition.kind === 'revision' && precondition.revision !== current.revision)
      throw staleWrite(name, current.revision, HttpStatus.PRECONDITION_FAILED);
    const patched = applyMergePatch(JSON.parse(JSON.stringify(current.experiment)), patch);
    const defined = this.definitionOf(name, patched, 'patched definition');
    const { warnings } = defined;
    const experiment = withBucketVersionStarts(defined.experiment, current.experiment, new Date());
    await this.fitsWithOthers(experiment);
    const result = await this.experiments.save(experiment, {
      actor,
      expected: current.revision,
    });
    return this.answer(name, result, precondition, response, warnings);
  }

  @Post(':name/archive')
  @HttpCode(HttpStatus.OK)
  @EditorOnly()
  @ApiOperation({
    summary: 'Archive an experiment: workers stop deciding it within seconds; assignments are kept',
  })
  @ApiHeader({ name: 'If-Match', required: false, description: 'The ETag last read' })
  @ApiOkResponse({ description: 'The archived experiment' })
  @ApiNotFoundResponse({ description: 'No such experiment' })
  archive(
    @Param('name', ExperimentNamePipe) name: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Actor() actor: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<WriteAnswer> {
    return this.toggle(name, ifMatch, actor, response, 'archive');
  }

  @Post(':name/restore')
  @HttpCode(HttpStatus.OK)
  @EditorOnly()
  @ApiOperation({ summary: 'Bring an archived experiment back into force' })
  @ApiHeader({ name: 'If-Match', required: false, description: 'The ETag last read' })
  @ApiOkResponse({ description: 'The restored experiment' })
  @ApiNotFoundResponse({ description: 'No such experiment' })
  restore(
    @Param('name', ExperimentNamePipe) name: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Actor() actor: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<WriteAnswer> {
    return this.toggle(name, ifMatch, actor, response, 'restore');
  }

  @Get(':name/history')
  @ApiOperation({
    summary: 'Every change of an experiment: who (token name), when, before and after',
  })
  @ApiOkResponse({ description: '{ history: [...] }, oldest first' })
  @ApiNotFoundResponse({ description: 'No such experiment' })
  async history(
    @Param('name', ExperimentNamePipe) name: string,
  ): Promise<{ name: string; history: RevisionView[] }> {
    await this.existing(name);
    return { name, history: (await this.experiments.history(name)).map(revisionView) };
  }

  private async toggle(
    name: string,
    ifMatch: string | undefined,
    actor: string,
    response: Response,
    action: 'archive' | 'restore',
  ): Promise<WriteAnswer> {
    const precondition = preconditionOf(ifMatch, undefined);
    const expected = precondition.kind === 'revision' ? precondition.revision : undefined;
    const result = await this.experiments[action](name, { actor, expected });
    return this.answer(name, result, precondition, response, []);
  }

  private async existing(name: string): Promise<StoredExperiment> {
    const stored = await this.experiments.get(name);
    if (!stored) throw notFound(`no experiment named ${name}`);
    return stored;
  }

  /** Holdouts and layers are shared: a definition must fit with the other experiments in force. */
  private async fitsWithOthers(experiment: Experiment): Promise<void> {
    const name = namespacedName(experiment);
    const others = (await this.experiments.list())
      .filter((stored) => !stored.archived && namespacedName(stored.experiment) !== name)
      .map((stored) => stored.experiment);
    const problems = problemsOfExperimentSet([...others, experiment]);
    if (problems.length > 0) throw badRequest(problems);
  }

  private definitionOf(
    name: string,
    input: unknown,
    path: string,
  ): { experiment: Experiment; warnings: string[] } {
    const result = validateExperiment(input, path);
    if (!result.ok) throw badRequest(result.problems);
    if (namespacedName(result.value) !== name)
      throw badRequest([
        `${path}: namespace and name make ${namespacedName(result.value)}, not ${name} as in the path`,
      ]);
    return { experiment: result.value, warnings: result.warnings };
  }

  private answer(
    name: string,
    result: WriteResult,
    precondition: Precondition,
    response: Response,
    warnings: string[],
  ): WriteAnswer {
    if (result.outcome === 'not_found') throw notFound(`no experiment named ${name}`);
    if (result.outcome === 'conflict')
      throw staleWrite(
        name,
        result.current?.revision,
        precondition.kind === 'none' ? HttpStatus.CONFLICT : HttpStatus.PRECONDITION_FAILED,
      );
    response.setHeader('ETag', etagOf(result.stored.revision));
    if (result.outcome === 'created') {
      response.status(HttpStatus.CREATED);
      response.setHeader('Location', `/experiments/${name}`);
    }
    return { outcome: result.outcome, warnings, ...experimentView(name, result.stored) };
  }
}

/** The parsed JSON body; anything but JSON is a 415 rather than an empty definition. */
function jsonBody(request: Request, body: unknown): unknown {
  if (!request.is(JSON_TYPES))
    throw new ProblemException(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      `send the body as ${JSON_TYPES.join(' or ')}`,
    );
  return body;
}
