import {
  dailyStatsView,
  statsView,
  type DailyStatsView,
  type StatsView,
} from '@assigner/contracts';
import { summarizeBucketCounts, type Experiment } from '@assigner/domain';
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
import { ExperimentCounts, type CurrentCounts } from './experiment-counts';

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
      'Counts of current assignments (forced ones shown apart), first and last decision times, the bucket version, layer and holdout (with its members) when set, and a chi-square test of the hashed assignments against an equal split: sampleRatio.pValue, and sampleRatio.mismatch when it is below 0.001. The counts are as of countedAt: a count that took under a second is made again for each request; a longer one answers for ten times its duration while the next runs (recounting: true).',
  })
  @ApiOkResponse({ description: 'The counts and checks' })
  @ApiNotFoundResponse({ description: 'No such experiment' })
  @ApiServiceUnavailableResponse({
    description:
      'The experiment has not been counted yet and its first count is still running (Retry-After)',
  })
  async stats(@Param('name', ExperimentNamePipe) name: string): Promise<StatsView> {
    const { experiment, counts } = await this.counted(name);
    const { numBuckets, bucketVersion, layer, holdout } = experiment;
    const { snapshot, recounting } = counts;
    return {
      ...statsView(
        name,
        numBuckets,
        summarizeBucketCounts(numBuckets, snapshot.rows),
        snapshot,
        recounting,
      ),
      ...(bucketVersion ? { bucketVersion } : {}),
      ...(layer ? { layer } : {}),
      ...(holdout ? { holdout: { ...holdout, members: await this.members(holdout.name) } } : {}),
    };
  }

  /** A holdout's members: its membership records, counted like an experiment's assignments. */
  private async members(holdout: string): Promise<number | null> {
    const counts = await this.counts.current(holdout);
    if (counts.kind === 'counting') return null;
    return counts.snapshot.rows.reduce((sum, row) => sum + row.count, 0);
  }

  @Get(':name/stats/daily')
  @ApiOperation({
    summary: 'Assignments per bucket per day',
    description:
      'For each UTC day from the first assignment to the last (days without any included, as 0), how many current assignments entered each bucket that day: the day their bucket was decided. From the same count as /stats, as of countedAt.',
  })
  @ApiOkResponse({ description: 'One series per bucket over the days' })
  @ApiNotFoundResponse({ description: 'No such experiment' })
  @ApiServiceUnavailableResponse({
    description:
      'The experiment has not been counted yet and its first count is still running (Retry-After)',
  })
  async daily(@Param('name', ExperimentNamePipe) name: string): Promise<DailyStatsView> {
    const { experiment, counts } = await this.counted(name);
    return dailyStatsView(name, experiment.numBuckets, counts.snapshot, counts.recounting);
  }

  /** The experiment's current counts; 404 for an unknown one, 503 during its first long count. */
  private async counted(
    name: string,
  ): Promise<{ experiment: Experiment; counts: Extract<CurrentCounts, { kind: 'counted' }> }> {
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
    return { experiment: stored.experiment, counts };
  }
}
