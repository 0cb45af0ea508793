import type { KafkaRequest } from '../../broker-connection';
import { Writer, type Reader } from '../../encoding';

export interface OffsetFetchResponse {
  topics: {
    name: string;
    partitions: { partition: number; offset: number; errorCode: number }[];
  }[];
  errorCode: number;
}

/**
 * OffsetFetch v7, the first version with `require_stable` (KIP-447), and flexible (KIP-482):
 * one group, one topic's partitions, stable offsets required.
 */
export function offsetFetchV7(
  groupId: string,
  topic: string,
  partitions: readonly number[],
): KafkaRequest<OffsetFetchResponse> {
  const body = new Writer()
    .compactString(groupId)
    .uvarint(2) // one topic (compact array length is count + 1)
    .compactString(topic)
    .uvarint(partitions.length + 1);
  for (const partition of partitions) body.int32(partition);
  body
    .uvarint(0) // topic tagged fields
    .int8(1) // require_stable
    .uvarint(0); // request tagged fields
  return {
    apiKey: 9,
    apiVersion: 7,
    flexible: true,
    body: body.toBuffer(),
    decode(response: Reader): OffsetFetchResponse {
      response.int32(); // throttle_time_ms
      const topics: OffsetFetchResponse['topics'] = [];
      const topicCount = response.compactArrayLength();
      for (let t = 0; t < topicCount; t++) {
        const name = response.compactString();
        const partitionsOut: OffsetFetchResponse['topics'][number]['partitions'] = [];
        const partitionCount = response.compactArrayLength();
        for (let p = 0; p < partitionCount; p++) {
          const partition = response.int32();
          const offset = Number(response.int64());
          response.int32(); // committed_leader_epoch
          response.compactNullableString(); // metadata
          const errorCode = response.int16();
          response.skipTaggedFields();
          partitionsOut.push({ partition, offset, errorCode });
        }
        response.skipTaggedFields();
        topics.push({ name, partitions: partitionsOut });
      }
      const errorCode = response.int16();
      response.skipTaggedFields();
      return { topics, errorCode };
    },
  };
}
