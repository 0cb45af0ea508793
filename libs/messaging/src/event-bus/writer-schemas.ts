import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import type { Logger } from 'pino';
import { Backoff } from '../backoff';

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
    // No retries in the client: the backoff below is the one retry of a lookup.
    this.registry = new SchemaRegistry({ host: registryUrl, retry: { retries: 0 } });
  }

  async lookup(id: number, stillWanted: () => boolean): Promise<WriterSchemaLookup> {
    const cached = this.known.get(id);
    if (cached) return cached;
    const backoff = new Backoff(RETRY_FIRST_MS, RETRY_MAX_MS);
    const since = Date.now();
    let warnedAt = 0;
    for (;;) {
      const fetched = await this.fetch(id);
      if (fetched.kind === 'answer') {
        this.known.set(id, fetched.schema);
        if (warnedAt > 0) this.logger.info({ schemaId: id }, 'schema registry answered again');
        return fetched.schema;
      }
      if (!stillWanted()) return { ok: false, abandoned: true };
      if (Date.now() - warnedAt >= WARN_EVERY_MS) {
        warnedAt = Date.now();
        this.logger.warn(
          {
            schemaId: id,
            registry: this.registryUrl,
            waitingMs: warnedAt - since,
            err: fetched.error,
          },
          'waiting for the schema registry to serve a writer schema',
        );
      }
      await backoff.pause(Infinity, () => `schema ${id}`);
    }
  }

  private async fetch(
    id: number,
  ): Promise<{ kind: 'answer'; schema: WriterSchema } | { kind: 'unavailable'; error: unknown }> {
    try {
      const schema: unknown = await this.registry.getSchema(id);
      return {
        kind: 'answer',
        schema:
          schema instanceof avro.Type
            ? { ok: true, type: schema }
            : { ok: false, reason: `schema ${id} is not an Avro schema` },
      };
    } catch (error) {
      // The client's HTTP failures (no answer, 404 for an id not there yet, 5xx) are outages;
      // anything else is the schema itself failing to parse.
      if (error instanceof Error && error.name === 'ResponseError')
        return { kind: 'unavailable', error };
      return {
        kind: 'answer',
        schema: { ok: false, reason: `schema ${id} cannot be read: ${errorMessage(error)}` },
      };
    }
  }
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
