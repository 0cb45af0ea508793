import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { ProblemException, type ProblemBody } from './problem';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  428: 'Precondition Required',
  500: 'Internal Server Error',
};

/** What body-parser throws: an http-errors error with the status it means. */
interface ParserError {
  status: number;
  type: string;
  message: string;
  expose?: boolean;
}

const isParserError = (error: unknown): error is ParserError =>
  error instanceof Error &&
  typeof (error as Partial<ParserError>).status === 'number' &&
  typeof (error as Partial<ParserError>).type === 'string';

/**
 * Every error as `application/problem+json`: ours with their list of problems, Nest's (unknown
 * routes), body-parser's (bad JSON, too large) and, without details, anything unexpected.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly logger: PinoLogger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    const { body, headers } = this.problemOf(error);
    if (body.status >= 500) this.logger.error({ err: error }, 'request failed');
    body.instance = request.originalUrl;
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    response.status(body.status).type('application/problem+json').send(JSON.stringify(body));
  }

  private problemOf(error: unknown): { body: ProblemBody; headers: Record<string, string> } {
    const problem = (status: number, detail: string, problems?: string[]): ProblemBody => ({
      type: 'about:blank',
      title: TITLES[status] ?? 'Error',
      status,
      detail,
      ...(problems ? { problems } : {}),
    });
    if (error instanceof ProblemException)
      return {
        body: { ...problem(error.getStatus(), error.detail, error.problems), ...error.extensions },
        headers: error.headers,
      };
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const detail =
        status === 400 && error.message.includes('JSON')
          ? `the body is not valid JSON: ${error.message}`
          : error.message;
      return { body: problem(status, detail), headers: {} };
    }
    if (isParserError(error) && error.status >= 400 && error.status < 500) {
      const detail =
        error.type === 'entity.too.large'
          ? 'the body is larger than this API accepts (ADMIN_API_MAX_BODY_BYTES)'
          : error.expose === false
            ? 'the body could not be read'
            : error.message;
      return { body: problem(error.status, detail), headers: {} };
    }
    return {
      body: problem(500, 'an unexpected error; the server log has the details'),
      headers: {},
    };
  }
}
