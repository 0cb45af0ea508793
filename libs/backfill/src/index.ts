export {
  OpenChunkTakeover,
  type OpenChunkTakeoverOptions,
  type TakeoverReport,
} from './open-chunk-takeover';
