import { MongoServerError } from 'mongodb';

/** A unique-index clash. FerretDB reports one inside an update as code 1; MongoDB as 11000. */
export function isDuplicateKey(error: unknown): boolean {
  return (
    error instanceof MongoServerError &&
    (error.code === 11000 || (error.code === 1 && /UNIQUE constraint failed/.test(error.message)))
  );
}
