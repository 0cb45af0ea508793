import { Injectable } from '@nestjs/common';
import type { EachBatchPayload } from 'kafkajs';
import { PinoLogger } from 'nestjs-pino';

/**
 * Receives input batches. For now it only counts them and commits nothing, so no input is
 * consumed for good before the assignment pipeline exists: a restart re-reads everything.
 */
@Injectable()
export class IntakeService {
  constructor(private readonly logger: PinoLogger) {}

  async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    this.logger.debug(
      { topic: batch.topic, partition: batch.partition, messages: batch.messages.length },
      'batch received',
    );
    await payload.heartbeat();
  }
}
