import type { KafkaRequest } from '../../broker-connection';
import { Writer, type Reader } from '../../encoding';

// v1 rather than v0: the 3.9 spec marks v0 deprecated and Kafka 4.0 (KIP-896) removes it.
const COORDINATOR_KEY_TYPE_GROUP = 0;

export interface FindCoordinatorResponse {
  errorCode: number;
  errorMessage: string | null;
  host: string;
  port: number;
}

/** FindCoordinator v1 for a consumer group. */
export function findCoordinatorV1(groupId: string): KafkaRequest<FindCoordinatorResponse> {
  return {
    apiKey: 10,
    apiVersion: 1,
    flexible: false,
    body: new Writer().string(groupId).int8(COORDINATOR_KEY_TYPE_GROUP).toBuffer(),
    decode(response: Reader): FindCoordinatorResponse {
      response.int32(); // throttle_time_ms
      const errorCode = response.int16();
      const errorMessage = response.nullableString();
      response.int32(); // node_id
      const host = response.string();
      const port = response.int32();
      return { errorCode, errorMessage, host, port };
    },
  };
}
