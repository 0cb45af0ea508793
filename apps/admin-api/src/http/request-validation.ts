import { describeValidationErrors } from '@assigner/contracts';
import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsOptional, Matches, validateSync } from 'class-validator';
import { badRequest } from './problem';

/**
 * Request values are only ever strings matched against these patterns before they reach a
 * query, so no request value can become a MongoDB operator or a regular expression.
 */
export const EXPERIMENT_NAME = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const USER_ID = /^[1-9]\d{0,14}$/;
/** edx-platform's username characters (letters and digits of any script, space, _ . @ + -). */
const USERNAME = /^[\p{L}\p{N}\p{M}_ .@+-]{1,150}$/u;
const COURSE_ID = /^[A-Za-z0-9._~:+/@-]{1,255}$/;
const BOOLEAN = ['true', 'false'];

/** Course keys never hold spaces: one in a query is a "+" that was not encoded as %2B. */
const plusRestored = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.replaceAll(' ', '+') : value;

const USER_ID_MESSAGE = 'must be a user id (a whole number from 1)';
const USERNAME_MESSAGE = 'must be a username (letters, digits, space and _ . @ + -)';
const COURSE_ID_MESSAGE = 'must be a course key such as course-v1:MITx+6.00x+2026';

/** Validates a query object against a DTO class, then `also`; a 400 lists every problem. */
export function validQuery<T extends object>(
  cls: new () => T,
  query: unknown,
  also: (valid: T) => string[] = () => [],
): T {
  const dto = plainToInstance(cls, query ?? {});
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
  const problems = describeValidationErrors(errors, 'query').map((problem) =>
    problem.replace(/^query\./, 'query '),
  );
  if (problems.length === 0) problems.push(...also(dto));
  if (problems.length > 0) throw badRequest(problems);
  return dto;
}

/** Path names of experiments are checked before any lookup: 400, not a 404 or a match. */
@Injectable()
export class ExperimentNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!EXPERIMENT_NAME.test(value))
      throw badRequest([
        `path name: ${JSON.stringify(value)} is not an experiment name ("namespace.name": letters, digits, "_", "-")`,
      ]);
    return value;
  }
}

export class LearnerQuery {
  @ApiPropertyOptional({ description: 'The learner by user id', example: '12345' })
  @IsOptional()
  @Matches(USER_ID, { message: USER_ID_MESSAGE })
  user_id?: string;

  @ApiPropertyOptional({ description: 'The learner by username', example: 'alice' })
  @IsOptional()
  @Matches(USERNAME, { message: USERNAME_MESSAGE })
  username?: string;
}

export const oneLearner = (query: LearnerQuery): string[] =>
  (query.user_id === undefined) === (query.username === undefined)
    ? ['query: give exactly one of user_id and username']
    : [];

export class ExperimentLearnerQuery extends LearnerQuery {
  @ApiPropertyOptional({ description: 'Only this course', example: 'course-v1:MITx+6.00x+2026' })
  @IsOptional()
  @Transform(plusRestored)
  @Matches(COURSE_ID, { message: COURSE_ID_MESSAGE })
  course_id?: string;
}

export class ExplainQuery {
  @ApiPropertyOptional({ description: 'The learner (required)', example: '12345' })
  @Matches(USER_ID, { message: USER_ID_MESSAGE })
  user_id!: string;

  @ApiPropertyOptional({
    description: 'The course of the decision; required for course-scoped experiments',
    example: 'course-v1:MITx+6.00x+2026',
  })
  @IsOptional()
  @Transform(plusRestored)
  @Matches(COURSE_ID, { message: COURSE_ID_MESSAGE })
  course_id?: string;

  @ApiPropertyOptional({
    description: 'When the decision is made (ISO-8601); default now',
    example: '2026-03-01T12:00:00Z',
  })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}:?\d{2})?$/, {
    message: 'must be an ISO-8601 time such as 2026-03-01T12:00:00Z',
  })
  at?: string;

  @ApiPropertyOptional({ description: 'Decide as for a staff member', enum: BOOLEAN })
  @IsOptional()
  @IsIn(BOOLEAN, { message: 'must be true or false' })
  is_staff?: string;
}

export class ListExperimentsQuery {
  @ApiPropertyOptional({ description: 'Include archived experiments', enum: BOOLEAN })
  @IsOptional()
  @IsIn(BOOLEAN, { message: 'must be true or false' })
  include_archived?: string;
}
