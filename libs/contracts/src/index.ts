export { ExperimentDefinitionDto, FlagRuleDto } from './experiments/experiment-definition.dto';
export {
  validateExperiment,
  validateExperimentsFile,
  type Validated,
} from './experiments/validate-experiments';
export { parseInbound, type InboundHeaders, type InboundResult } from './inbound/parse-inbound';
export {
  analyticsMessageOf,
  BUCKETED_EVENT,
  type AnalyticsMessage,
} from './outbound/analytics-message';
