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
import { WriterSchemas } from './writer-schemas';

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
    const decoded: InboundMessage[] = [];
    for (const message of messages) {
      const value = await this.decodeOne(message, stillWanted);
      if (value === 'abandoned') return { ok: false, abandoned: true };
      decoded.push(value === 'text' ? message : { ...message, decoded: value });
    }
    return { ok: true, messages: decoded };
  }

  private async decodeOne(
    message: InboundMessage,
    stillWanted: () => boolean,
  ): Promise<DecodedValue | 'text' | 'abandoned'> {
    const { value, headers } = message;
    const ceType = headerText(headers, 'ce_type');
    const contentType =
      headerText(headers, 'content-type') ?? headerText(headers, 'ce_datacontenttype');
    const binary = Buffer.isBuffer(value) ? value : undefined;
    const framed = binary !== undefined && looksConfluentFramed(binary, contentType);
    if (ceType === undefined && !framed) return 'text';
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
    const writer = await this.schemas.lookup(frame.schemaId, stillWanted);
    if ('abandoned' in writer) return 'abandoned';
    if (!writer.ok) return undecodable(writer.reason);
    const eventType = ceType ?? eventTypeOf(writer.type);
    if (eventType === undefined || !isEnrollmentEventType(eventType))
      return { kind: 'event-bus', eventType: eventType ?? String(writer.type.name), value: null };
    const reader = this.reader(frame.schemaId, eventType, writer.type);
    if (!reader.ok) return undecodable(reader.reason);
    try {
      return {
        kind: 'event-bus',
        eventType,
        eventTime: headerText(headers, 'ce_time'),
        value: reader.type.fromBuffer(frame.body, reader.resolver),
      };
    } catch (error) {
      return undecodable(
        `undecodable Avro body for schema ${frame.schemaId}: ${errorMessage(error)}`,
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
          reason: `schema ${schemaId} is not a ${eventType} enrollment record: ${errorMessage(error)}`,
        };
      }
      this.readers.set(key, reader);
    }
    return reader;
  }
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

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
