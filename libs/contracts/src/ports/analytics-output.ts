import type { AnalyticsMessage } from '../outbound/analytics-message';

// A port: implemented by messaging's partition transaction, used by the pipeline.

/** Where a batch's analytics messages go as soon as they are decided (a partition's transaction). */
export interface AnalyticsOutput {
  send(analytics: readonly AnalyticsMessage[]): void;
}
