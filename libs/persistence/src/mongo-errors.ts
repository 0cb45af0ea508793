import { backOff } from 'exponential-backoff';
import { MongoBulkWriteError, MongoServerError } from 'mongodb';

/** The codes and messages of a server error, including each write error of a bulk write. */
function reports(error: unknown): { code: unknown; message: string }[] {
  if (!(error instanceof MongoServerError)) return [];
  const writeErrors = error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : [];
  return [
    { code: error.code, message: error.message },
    ...writeErrors.map((writeError) => ({
      code: writeError.code,
      message: writeError.errmsg ?? '',
    })),
  ];
}

/** A unique-index clash. FerretDB reports one inside an update as code 1; MongoDB as 11000. */
export function isDuplicateKey(error: unknown): boolean {
  return reports(error).some(
    ({ code, message }) =>
      code === 11000 || (code === 1 && /UNIQUE constraint failed/.test(message)),
  );
}

/** SQLite-backed FerretDB gives up on lock contention with code 1 "database is locked". */
export function isTransient(error: unknown): boolean {
  return reports(error).some(({ message }) => /database is locked|SQLITE_BUSY/.test(message));
}

/** Retries an idempotent store operation through transient contention, with jittered backoff. */
export function retryTransient<T>(operation: () => Promise<T>, attempts = 8): Promise<T> {
  return backOff(operation, {
    numOfAttempts: attempts,
    startingDelay: 100,
    jitter: 'full',
    retry: (error) => isTransient(error),
  });
}
