import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/access';
import { SampleRatioMonitor } from './sample-ratio-monitor';

@ApiTags('operations')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly monitor: SampleRatioMonitor) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4')
  @ApiOperation({
    summary: 'Prometheus metrics: live sample-ratio checks of the experiments in force',
    description:
      'assigner_sample_ratio_p_value{experiment}, assigner_sample_ratio_mismatch{experiment} (1 below p = 0.001) and assigner_sample_ratio_counted_at_seconds{experiment}, refreshed every SAMPLE_RATIO_CHECK_MS; no token needed, like /health.',
  })
  @ApiOkResponse({ description: 'The Prometheus text format' })
  scrape(): Promise<string> {
    return this.monitor.registry.metrics();
  }
}
