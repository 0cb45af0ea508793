// The Kafka error codes the requests of this layer meet, by name for messages.

const ERROR_NAMES: Readonly<Record<number, string>> = {
  [-1]: 'UNKNOWN_SERVER_ERROR',
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  7: 'REQUEST_TIMED_OUT',
  14: 'COORDINATOR_LOAD_IN_PROGRESS',
  15: 'COORDINATOR_NOT_AVAILABLE',
  16: 'NOT_COORDINATOR',
  24: 'INVALID_GROUP_ID',
  29: 'TOPIC_AUTHORIZATION_FAILED',
  30: 'GROUP_AUTHORIZATION_FAILED',
  35: 'UNSUPPORTED_VERSION',
  42: 'INVALID_REQUEST',
  69: 'GROUP_ID_NOT_FOUND',
  88: 'UNSTABLE_OFFSET_COMMIT',
};
export const UNSTABLE_OFFSET_COMMIT = 88;
/** The group moved or its coordinator is still loading: ask for the coordinator again. */
export const COORDINATOR_ERRORS = new Set([14, 15, 16]);

export function errorName(code: number): string {
  const name = ERROR_NAMES[code];
  return name ? `${code} ${name}` : `${code}`;
}
