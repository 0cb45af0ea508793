import type { SourcePosition } from '@assigner/domain';

export type InboundHeaders = Readonly<Record<string, string | Buffer | undefined>>;

/** One input message with where it came from. */
export interface InboundMessage {
  value: string | Buffer | null;
  key?: Buffer | string | null;
  headers?: InboundHeaders;
  position: SourcePosition;
  /** Set for a binary value decoded before parsing (event-bus Avro); text formats have none. */
  decoded?: DecodedValue;
}

/** What the messaging layer made of an event-bus value. */
export type DecodedValue =
  | { kind: 'event-bus'; eventType: string; eventTime?: string; value: unknown }
  | { kind: 'undecodable'; reason: string };

/** An input message that cannot be applied, on its way to the dead-letter topic. */
export interface DeadLetter {
  message: InboundMessage;
  reason: string;
  /** Where the message came from, as headers; by default its topic, partition and offset. */
  origin?: Readonly<Record<string, string>>;
}
