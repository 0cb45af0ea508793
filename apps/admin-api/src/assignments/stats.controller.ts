import { statsView, type StatsView } from '@assigner/contracts';
import { summarizeBucketCounts } from '@assigner/domain';
import { ExperimentRepository } from '@assigner/persistence';
import { Controller, Get, HttpStatus, Param } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { notFound, ProblemException } from '../http/problem';
import { ExperimentNamePipe } from '../http/request-validation';
import { ExperimentCounts } from './experiment-counts';

/** What a client asking during an experiment's first long count is told to wait. */
const RETRY_AFTER_SECONDS = 10;

@ApiTags('assignments')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No token, or an unknown one' })
@Controller('experiments')
export class StatsController {
  constructor(
    private readonly experiments: ExperimentRepository,
    private readonly counts: ExperimentCounts,
  ) {}

  @Get(':name/stats')
  @ApiOperation({
    summary: 'Assignments per bucket, overall and per course, with a sample-ratio-mismatch check',
    description:
      'Counts of current assignments (forced ones shown apart), first and last decision times, and a chi-square test of the hashed assignments against an equal split: sampleRatio.pValue, and sampleRatio.mismatch when it is below 0.001. The counts are as of countedAt: a count that took under a second is made again for each request; a longer one answers for ten times its duration while the next runs (recounting: true).',
  })
  @ApiOkResponse({ description: 'The counts and checks' })
  @ApiNotFoundResponse({ description: 'No such experiment' })
  @ApiServiceUnavailableResponse({
    description:
      'The experiment has not been counted yet and its first count is still running (Retry-After)',
  })
  async stats(@Param('name', ExperimentNamePipe) name: string): Promise<StatsView> {
    const stored = await this.experiments.get(name);
    if (!stored) throw notFound(`no experiment named ${name}`);
    const counts = await this.counts.current(name);
    if (counts.kind === 'counting')
      throw new ProblemException(
        HttpStatus.SERVICE_UNAVAILABLE,
        `the assignments of ${name} are being counted for the first time (since ${counts.since.toISOString()}); ask again shortly`,
        undefined,
        {},
        { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      );
    const { numBuckets } = stored.experiment;
    const { snapshot, recounting } = counts;
    return statsView(
      name,
      numBuckets,
      summarizeBucketCounts(numBuckets, snapshot.rows),
      snapshot,
      recounting,
    );
  }
}
