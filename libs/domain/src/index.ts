export { applyEvent, type AssignmentChange, type EventOutcome } from './assignment/apply-event';
export { decisionInputOf, type DecisionContext } from './assignment/decision-input';
export { messageIdOf, type MessageIdParts } from './assignment/message-id';
export {
  assignmentKey,
  emptyUserState,
  type AssignmentReason,
  type AssignmentRecord,
  type BucketChange,
  type EnrollmentRecord,
  type SourcePosition,
  type UserState,
} from './assignment/user-state';
export { stableBucket } from './bucketing/stable-bucket';
export { stableBucketReference } from './bucketing/stable-bucket-reference';
export {
  decide,
  type BucketedReason,
  type Decision,
  type DecisionInput,
  type DecisionTrace,
  type FlagTrace,
  type NotBucketedReason,
} from './decision/decide';
export {
  explainDecision,
  type Explanation,
  type ExplanationStep,
  type FlagStep,
} from './decision/explain';
export {
  usableUsername,
  type EnrollmentAction,
  type EnrollmentEvent,
  type LearnerEvent,
  type PageViewEvent,
} from './events/learner-event';
export {
  bucketFlagName,
  decisionCourseOf,
  FLAG_RULE_DEFAULTS,
  namespacedName,
  type Experiment,
  type FlagRule,
  type HoldoutRule,
  type LayerSlot,
  type Scope,
  type Toggle,
  type Trigger,
} from './experiment/experiment';
export { orgOfCourse } from './flags/course-key';
export {
  evaluateFlag,
  type FlagOutcome,
  type FlagRuleCheck,
  type FlagRuleName,
  type FlagSubject,
} from './flags/flag-evaluation';
export {
  AssignmentCounter,
  type AssignmentTally,
  type CountedAssignment,
} from './stats/assignment-counter';
export { countIsCurrent, type CountTiming } from './stats/count-freshness';
export {
  dailyBucketSeries,
  utcDayOf,
  type DailyBucketCountRow,
  type DailyBucketCounts,
} from './stats/daily-bucket-counts';
export {
  summarizeBucketCounts,
  type BucketCountRow,
  type BucketCounts,
  type ExperimentCounts,
} from './stats/bucket-counts';
export {
  chiSquareUpperTail,
  sampleRatioMismatch,
  SRM_ALPHA,
  type SampleRatioCheck,
} from './stats/sample-ratio-mismatch';
export { formatMicros, parseIsoMicros, type Micros } from './time/iso-time';
export {
  checkEnrollmentWindow,
  type WindowCheck,
  type WindowVerdict,
} from './windows/enrollment-window';
export { bucketVersionAt } from './bucketing/bucket-version';
export { hashGroupOf } from './bucketing/hash-group';
export { hashShareOf } from './bucketing/hash-share';
export { checkHoldout, type HoldoutCheck } from './holdouts/holdout-check';
export {
  checkLayer,
  layerAdmits,
  rangesOverlap,
  type LayerCheck,
  type LayerVerdict,
} from './layers/layer-eligibility';
export {
  LearnerAttributesTable,
  type LearnerAttributes,
  type LearnerAttributesLookup,
} from './learners/learner-attributes';
