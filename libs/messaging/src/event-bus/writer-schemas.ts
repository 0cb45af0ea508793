import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { backOff } from 'exponential-backoff';
import { errorText } from '../kafka-client';
import avro from 'avsc';
import type { Logger } from 'pino';

/** A writer schema by its registry id: an Avro type, or why it cannot decode anything. */
export type WriterSchema = { ok: true; type: avro.Type } | { ok: false; reason: string };

/** The fetch gave up because its caller no longer wants the answer (a revoked batch). */
export type WriterSchemaLookup = WriterSchema | { ok: false; abandoned: true };

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;
const WARN_EVERY_MS = 30_000;

/**
 * Writer schemas fetched from a Confluent-compatible registry, cached for good (a registry id
 * never changes meaning). Like Confluent's deserializer, a registry that does not answer, or does
 * not know the id yet, is waited for, with backoff, for as long as the caller still wants the
 * answer: a good message is never dead-lettered for an outage. Only a schema the registry does
 * serve but that is not usable Avro is an answer of its own.
 */
export class WriterSchemas {
  private readonly registry: SchemaRegistry;
  private readonly known = new Map<number, WriterSchema>();

  constructor(
    private readonly registryUrl: string,
    private readonly logger: Logger,
  ) {
    // No retries in the client: the backoff of `lookup` is the one retry.
    this.registry = new SchemaRegistry({ host: registryUrl, retry: { retries: 0 } });
  }

  async lookup(id: number, stillWanted: () => boolean): Promise<WriterSchemaLookup> {
    const cached = this.known.get(id);
    if (cached) return cached;
    const since = Date.now();
    let warnedAt = 0;
    try {
      const schema = await backOff(() => this.fetch(id), {
        numOfAttempts: Infinity,
        startingDelay: RETRY_FIRST_MS,
        maxDelay: RETRY_MAX_MS,
        retry: (error) => {
          if (!(error instanceof RegistryUnavailable) || !stillWanted()) return false;
          if (Date.now() - warnedAt >= WARN_EVERY_MS) {
            warnedAt = Date.now();
            this.logger.warn(
              {
                schemaId: id,
                registry: this.registryUrl,
                waitingMs: warnedAt - since,
                err: error.cause,
              },
              'waiting for the schema registry to serve a writer schema',
            );
          }
          return true;
        },
      });
      this.known.set(id, schema);
      if (warnedAt > 0) this.logger.info({ schemaId: id }, 'schema registry answered again');
      return schema;
    } catch (error) {
      if (error instanceof RegistryUnavailable) return { ok: false, abandoned: true };
      throw error;
    }
  }

  /** The registry's answer; throws `RegistryUnavailable` when it has none (yet). */
  private async fetch(id: number): Promise<WriterSchema> {
    let schema: unknown;
    try {
      schema = await this.registry.getSchema(id);
    } catch (error) {
      // The client's HTTP failures (no answer, 404 for an id not there yet, 5xx) are outages;
      // anything else is the schema itself failing to parse.
      if (error instanceof Error && error.name === 'ResponseError')
        throw new RegistryUnavailable(error);
      return { ok: false, reason: `schema ${id} cannot be read: ${errorText(error)}` };
    }
    return schema instanceof avro.Type
      ? { ok: true, type: schema }
      : { ok: false, reason: `schema ${id} is not an Avro schema` };
  }
}

/** The registry did not answer, or does not know the id yet: wait, never an answer. */
class RegistryUnavailable extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}
