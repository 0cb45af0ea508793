import { statsView, type StatsView } from '@assigner/contracts';
import { summarizeBucketCounts } from '@assigner/domain';
import {
  AssignmentCountsQuery,
  CountTimeLimitExceeded,
  ExperimentRepository,
} from '@assigner/persistence';
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

@ApiTags('assignments')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No token, or an unknown one' })
@Controller('experiments')
export class StatsController {
  constructor(
    private readonly experiments: ExperimentRepository,
    private readonly counts: AssignmentCountsQuery,
  ) {}

  @Get(':name/stats')
  @ApiOperation({
    summary: 'Assignments per bucket, overall and per course, with a sample-ratio-mismatch check',
    description:
      'Counts of current assignments (forced ones shown apart), first and last decision times, and a chi-square test of the hashed assignments against an equal split: sampleRatio.pValue, and sampleRatio.mismatch when it is below 0.001.',
  })
  @ApiOkResponse({ description: 'The counts and checks' })
  @ApiNotFoundResponse({ description: 'No such experiment' })
  @ApiServiceUnavailableResponse({
    description: 'The store could not count the assignments in time (see COUNT_TIME_LIMIT_MS)',
  })
  async stats(@Param('name', ExperimentNamePipe) name: string): Promise<StatsView> {
    const stored = await this.experiments.get(name);
    if (!stored) throw notFound(`no experiment named ${name}`);
    const [rows, range] = await Promise.all([
      this.counts.bucketCounts(name),
      this.counts.decidedRange(name),
    ]).catch((error: unknown) => {
      if (!(error instanceof CountTimeLimitExceeded)) throw error;
      throw new ProblemException(
        HttpStatus.SERVICE_UNAVAILABLE,
        `the assignments of ${name} could not be counted: ${error.message}`,
      );
    });
    const { numBuckets } = stored.experiment;
    return statsView(name, numBuckets, summarizeBucketCounts(numBuckets, rows), range);
  }
}
