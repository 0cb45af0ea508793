import type { AppConfig } from '@assigner/config';
import type { NeededTopic } from '@assigner/messaging';

/** The topics the worker writes, each with the setting that names it. */
export function outputTopics(config: AppConfig): NeededTopic[] {
  const numPartitions = config.TOPIC_PARTITIONS;
  return [
    { topic: config.ANALYTICS_TOPIC, setting: 'ANALYTICS_TOPIC', numPartitions },
    { topic: config.DLQ_TOPIC, setting: 'DLQ_TOPIC', numPartitions },
  ];
}

/** Every topic the worker reads or writes: created at start when missing. */
export function workerTopics(config: AppConfig): NeededTopic[] {
  return [
    ...config.INPUT_TOPICS.map((topic) => ({
      topic,
      setting: 'INPUT_TOPICS',
      numPartitions: config.TOPIC_PARTITIONS,
    })),
    ...outputTopics(config),
  ];
}
