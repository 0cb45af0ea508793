export { readEventFiles, type EventLine } from './history/event-files';
export { readLines, type LineSource } from './history/read-lines';
export { InvalidBackfillRequest } from './invalid-backfill-request';
export {
  OpenChunkTakeover,
  type OpenChunkTakeoverOptions,
  type TakeoverReport,
} from './open-chunk-takeover';
export {
  replayHistory,
  type ReplayEnvironment,
  type ReplayRequest,
  type ReplaySummary,
} from './replay/replay';
export { type ReplayReporter } from './replay/replay-run';
export {
  republishAssignments,
  type RepublishReporter,
  type RepublishRequest,
  type RepublishSummary,
} from './republish/republish';
