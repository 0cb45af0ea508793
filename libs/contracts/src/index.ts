export { ExperimentDefinitionDto, FlagRuleDto } from './experiments/experiment-definition.dto';
export {
  describeValidationErrors,
  validateExperiment,
  validateExperimentsFile,
  type Validated,
} from './experiments/validate-experiments';
export { problemsOfExperimentSet } from './experiments/experiment-set-rules';
export { withBucketVersionStarts } from './experiments/bucket-version-starts';
export {
  type DeadLetter,
  type DecodedValue,
  type InboundHeaders,
  type InboundMessage,
} from './inbound/inbound-message';
export { parseInbound, parseInboundMessage, type InboundResult } from './inbound/parse-inbound';
export {
  enrollmentReaderSchema,
  isEnrollmentEventType,
  type AvroSchemaJson,
} from './inbound/event-bus-enrollment';
export {
  looksConfluentFramed,
  readConfluentFrame,
  type ConfluentFrame,
} from './inbound/confluent-frame';
export {
  analyticsMessageOf,
  BUCKETED_EVENT,
  HELD_OUT_EVENT,
  type AnalyticsMessage,
} from './outbound/analytics-message';
export { applyMergePatch } from './admin/merge-patch';
export {
  assignmentView,
  explanationView,
  statsView,
  dailyStatsView,
  type AssignmentView,
  type DailyStatsView,
  type ExperimentAction,
  type ExperimentView,
  type ExplainAnswer,
  type LearnerAttributesView,
  type RevisionView,
  type ExplanationStepView,
  type ExplanationView,
  type StatsView,
} from './admin/admin-views';
export { type AnalyticsOutput } from './ports/analytics-output';
export { type LearnerStateStore, type LoadedLearners } from './ports/learner-state-store';
export { type StoreIntent, type WriteAheadLog } from './ports/write-ahead-log';
export {
  MAX_EXPORTED_LEARNERS,
  parseLmsUserExport,
  validateLearnerAttributeRows,
  validateLearnerAttributesBody,
} from './inbound/lms-user-export';
