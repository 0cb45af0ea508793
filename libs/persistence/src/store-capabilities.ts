import type { Db } from 'mongodb';

/**
 * Whether the store can use secondary indexes for this collection's queries. FerretDB 1.x on
 * SQLite evaluates every filter itself (only `_id` equality reaches SQLite) and says so in
 * `explain` (`filterPushdown: false`): there an index is never read and only slows each insert
 * (in a 100k-line replay, three of them cost 0.6 s of 4.2). MongoDB's explain has no such field.
 */
export async function usesSecondaryIndexes(db: Db, collection: string): Promise<boolean> {
  // Only the plan: MongoDB's default verbosity would run the query, a full scan of a large store.
  const plan = await db.command({
    explain: { find: collection, filter: { _probe: 1 } },
    verbosity: 'queryPlanner',
  });
  return plan.filterPushdown !== false;
}
