import type { SourcePosition } from '@assigner/domain';
import type { InboundHeaders } from './parse-inbound';

/** One input message with where it came from. */
export interface InboundMessage {
  value: string | Buffer | null;
  key?: Buffer | string | null;
  headers?: InboundHeaders;
  position: SourcePosition;
}

/** An input message that cannot be applied, on its way to the dead-letter topic. */
export interface DeadLetter {
  message: InboundMessage;
  reason: string;
  /** Where the message came from, as headers; by default its topic, partition and offset. */
  origin?: Readonly<Record<string, string>>;
}
