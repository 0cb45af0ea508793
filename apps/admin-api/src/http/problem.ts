import { HttpException, HttpStatus } from '@nestjs/common';

/** An RFC 9457 problem: what went wrong, and every individual problem with the request. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  problems?: string[];
  [extension: string]: unknown;
}

export class ProblemException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly detail: string,
    readonly problems?: string[],
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail, status);
  }
}

export const badRequest = (problems: string[]): ProblemException =>
  new ProblemException(
    HttpStatus.BAD_REQUEST,
    problems.length === 1 ? problems[0]! : `${problems.length} problems with the request`,
    problems,
  );

export const notFound = (detail: string): ProblemException =>
  new ProblemException(HttpStatus.NOT_FOUND, detail);
