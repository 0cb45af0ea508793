import { HttpStatus } from '@nestjs/common';
import { ProblemException } from './problem';

/** An experiment's ETag is its revision, quoted: a strong validator of the whole definition. */
export const etagOf = (revision: number): string => `"${revision}"`;

/** What a write's preconditions ask for: a revision, "any existing one", or "none may exist". */
export type Precondition =
  | { kind: 'revision'; revision: number; header: 'If-Match' }
  | { kind: 'exists' }
  | { kind: 'absent' }
  | { kind: 'none' };

export function preconditionOf(ifMatch?: string, ifNoneMatch?: string): Precondition {
  if (ifMatch !== undefined && ifNoneMatch !== undefined)
    throw badPrecondition('send If-Match or If-None-Match, not both');
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') throw badPrecondition('If-None-Match must be "*"');
    return { kind: 'absent' };
  }
  if (ifMatch === undefined) return { kind: 'none' };
  if (ifMatch.trim() === '*') return { kind: 'exists' };
  const match = /^\s*"([1-9]\d{0,9})"\s*$/.exec(ifMatch);
  if (!match)
    throw badPrecondition(
      `If-Match must be one ETag as sent by GET, e.g. "3" with its quotes (got ${JSON.stringify(ifMatch)})`,
    );
  return { kind: 'revision', revision: Number(match[1]), header: 'If-Match' };
}

const badPrecondition = (problem: string) =>
  new ProblemException(HttpStatus.BAD_REQUEST, problem, [problem]);

export const preconditionRequired = (name: string, current: number): ProblemException =>
  new ProblemException(
    HttpStatus.PRECONDITION_REQUIRED,
    `${name} exists: send If-Match with the ETag you last read (currently ${etagOf(current)}) so that no one's change is lost`,
    undefined,
    { currentRevision: current },
    { ETag: etagOf(current) },
  );

export const staleWrite = (
  name: string,
  current: number | undefined,
  status: HttpStatus.PRECONDITION_FAILED | HttpStatus.CONFLICT,
): ProblemException =>
  new ProblemException(
    status,
    current === undefined
      ? `${name} does not exist (any more)`
      : `${name} changed since it was read: it is at revision ${current}; read it again and reapply the change`,
    undefined,
    { currentRevision: current ?? null },
    current === undefined ? {} : { ETag: etagOf(current) },
  );
