import type { Collection, Db, Document, Filter } from 'mongodb';
import { inParallel } from './in-parallel';
import { retryTransient } from './mongo-errors';

/**
 * What the store can serve from an index. MongoDB serves every filter the adapters use. FerretDB
 * 1.24 on PostgreSQL pushes only top-level equality down to SQL (where the local store's GIN
 * twins of our indexes serve it, see services/ferretdb/postgresql-gin-indexes.sql), never `$in`,
 * `$or` or ranges: on it, those scan the whole collection. Each says so in its `explain`
 * (`filterPushdown`), which MongoDB's explain does not have.
 */
export interface StoreCapabilities {
  /** Whether `$in` on an indexed field is served by the index (one query for many keys). */
  readonly indexedIn: boolean;
}

/** Asks the store's planner, on a collection that need not exist. */
export async function storeCapabilities(db: Db, collection: string): Promise<StoreCapabilities> {
  // Only the plan: MongoDB's default verbosity would run the query.
  const plan = await retryTransient(() =>
    db.command({
      explain: { find: collection, filter: { _probe: { $in: [1, 2] } } },
      verbosity: 'queryPlanner',
    }),
  );
  return { indexedIn: plan.filterPushdown !== false };
}

/** How many equality lookups run at once where `$in` would scan. */
const LOOKUPS_IN_FLIGHT = 16;

/**
 * Every document whose `field` is one of `values`, by the cheapest query the store serves from
 * an index: one `$in`, or one equality lookup per value (a few at a time).
 */
export async function findEach<T extends Document>(
  collection: Collection<T>,
  capabilities: StoreCapabilities,
  field: string,
  values: readonly unknown[],
  projection?: Document,
): Promise<T[]> {
  if (values.length === 0) return [];
  const filters =
    capabilities.indexedIn || values.length === 1
      ? [{ [field]: values.length === 1 ? values[0] : { $in: [...values] } }]
      : values.map((value) => ({ [field]: value }));
  return findEachOf(collection, filters as Filter<T>[], projection);
}

/** Every document matching any of these filters, by one query each, a few at a time. */
export async function findEachOf<T extends Document>(
  collection: Collection<T>,
  filters: readonly Filter<T>[],
  projection?: Document,
): Promise<T[]> {
  const found = await inParallel(filters, LOOKUPS_IN_FLIGHT, (filter) =>
    retryTransient(() => collection.find(filter, { projection }).toArray() as Promise<T[]>),
  );
  return found.flat();
}
