import {
  enrollmentReaderSchema,
  isEnrollmentEventType,
  looksConfluentFramed,
  readConfluentFrame,
  type DecodedValue,
  type InboundHeaders,
  type InboundMessage,
} from '@assigner/contracts';
import avro from 'avsc';
import type { Logger } from 'pino';
import { errorText } from '../kafka-client';
import { WriterSchemas, type WriterSchema } from './writer-schemas';

export interface EventBusDecoderOptions {
  /** A Confluent-compatible registry API (e.g. Apicurio's `/apis/ccompat/v7`); unset: none. */
  registryUrl?: string;
  logger: Logger;
}

/** The batch was given up while a writer schema was awaited: its next owner decodes it. */
export type DecodedBatch =
  { ok: true; messages: InboundMessage[] } | { ok: false; abandoned: true };

const RECORD_SUFFIX = '.CloudEvent';

/**
 * Decodes the Open edX event-bus messages of a batch (edx-event-bus-kafka: Confluent-framed Avro,
 * the signal type in `ce_type`) for the parser; text messages pass through untouched. Writer
 * schemas come from the registry, and each is read through the enrollment reader schema, so a
 * newer writer schema with added fields decodes and a record of another shape is rejected.
 */
export class EventBusDecoder {
  private readonly schemas?: WriterSchemas;
  /** Resolvers per writer schema id and event type: building one costs more than decoding. */
  private readonly readers = new Map<string, Reader>();

  constructor(options: EventBusDecoderOptions) {
    if (options.registryUrl) this.schemas = new WriterSchemas(options.registryUrl, options.logger);
  }

  async decode(
    messages: readonly InboundMessage[],
    stillWanted: () => boolean,
  ): Promise<DecodedBatch> {
    const read = messages.map((message) => this.readFrame(message));
    // One registry lookup per schema id of the batch (cached after the first), not per message.
    const writers = new Map<number, WriterSchema>();
    for (const item of read) {
      if (item.kind !== 'framed' || writers.has(item.schemaId) || !this.schemas) continue;
      const writer = await this.schemas.lookup(item.schemaId, stillWanted);
      if ('abandoned' in writer) return { ok: false, abandoned: true };
      writers.set(item.schemaId, writer);
    }
    return {
      ok: true,
      messages: messages.map((message, index) => {
        const item = read[index]!;
        if (item.kind === 'text') return message;
        const decoded =
          item.kind === 'framed' ? this.decodeBody(item, writers.get(item.schemaId)!) : item;
        return { ...message, decoded };
      }),
    };
  }

  /** What the message is, as far as its headers and framing tell without a writer schema. */
  private readFrame(message: InboundMessage): { kind: 'text' } | DecodedValue | Framed {
    const { value, headers } = message;
    const ceType = headerText(headers, 'ce_type');
    const contentType =
      headerText(headers, 'content-type') ?? headerText(headers, 'ce_datacontenttype');
    const binary = Buffer.isBuffer(value) ? value : undefined;
    const framed = binary !== undefined && looksConfluentFramed(binary, contentType);
    if (ceType === undefined && !framed) return { kind: 'text' };
    // Other signals on the topic are ignored without a registry round trip.
    if (ceType !== undefined && !isEnrollmentEventType(ceType))
      return { kind: 'event-bus', eventType: ceType, value: null };
    if (!framed || binary === undefined)
      return undecodable(
        `a ${ceType ?? 'event-bus'} value that is not Confluent-framed Avro (content type ${contentType ?? 'unset'})`,
      );
    const frame = readConfluentFrame(binary);
    if (!frame.ok) return undecodable(frame.reason);
    if (!this.schemas)
      return undecodable('a Confluent-framed Avro value, but SCHEMA_REGISTRY_URL is not set');
    return {
      kind: 'framed',
      schemaId: frame.schemaId,
      body: frame.body,
      ceType,
      ceTime: headerText(headers, 'ce_time'),
    };
  }

  private decodeBody(framed: Framed, writer: WriterSchema): DecodedValue {
    if (!writer.ok) return undecodable(writer.reason);
    const eventType = framed.ceType ?? eventTypeOf(writer.type);
    if (eventType === undefined || !isEnrollmentEventType(eventType))
      return { kind: 'event-bus', eventType: eventType ?? String(writer.type.name), value: null };
    const reader = this.reader(framed.schemaId, eventType, writer.type);
    if (!reader.ok) return undecodable(reader.reason);
    try {
      return {
        kind: 'event-bus',
        eventType,
        eventTime: framed.ceTime,
        value: reader.type.fromBuffer(framed.body, reader.resolver),
      };
    } catch (error) {
      return undecodable(
        `undecodable Avro body for schema ${framed.schemaId}: ${errorText(error)}`,
      );
    }
  }

  private reader(schemaId: number, eventType: string, writer: avro.Type): Reader {
    const key = `${schemaId}|${eventType}`;
    let reader = this.readers.get(key);
    if (!reader) {
      try {
        const type = avro.Type.forSchema(enrollmentReaderSchema(eventType) as avro.Schema);
        reader = { ok: true, type, resolver: type.createResolver(writer) };
      } catch (error) {
        reader = {
          ok: false,
          reason: `schema ${schemaId} is not a ${eventType} enrollment record: ${errorText(error)}`,
        };
      }
      this.readers.set(key, reader);
    }
    return reader;
  }
}

/** A Confluent-framed value, waiting for its writer schema. */
interface Framed {
  kind: 'framed';
  schemaId: number;
  body: Buffer;
  ceType?: string;
  ceTime?: string;
}

type Reader =
  { ok: true; type: avro.Type; resolver: avro.Resolver } | { ok: false; reason: string };

const undecodable = (reason: string): DecodedValue => ({ kind: 'undecodable', reason });

/** openedx-events names its record `CloudEvent` in the event type's namespace. */
function eventTypeOf(type: avro.Type): string | undefined {
  const name = type.name;
  return name?.endsWith(RECORD_SUFFIX) ? name.slice(0, -RECORD_SUFFIX.length) : undefined;
}

function headerText(headers: InboundHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return value === undefined ? undefined : value.toString();
}
