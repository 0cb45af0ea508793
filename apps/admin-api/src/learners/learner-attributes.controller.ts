import { validateLearnerAttributesBody } from '@assigner/contracts';
import type { LearnerAttributes } from '@assigner/domain';
import { LearnerAttributesRepository, type AttributeImport } from '@assigner/persistence';
import { Body, Controller, Get, Put } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Actor, EditorOnly } from '../auth/access';
import { badRequest } from '../http/problem';

/**
 * Staff and superusers, as an LMS export of `auth_user` says: what the flag rules `staff` and
 * `superusers` decide on, since Open edX's events do not carry them.
 */
@ApiTags('learners')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No token, or an unknown one' })
@Controller('learner-attributes')
export class LearnerAttributesController {
  constructor(private readonly attributes: LearnerAttributesRepository) {}

  @Put()
  @EditorOnly()
  @ApiOperation({
    summary: 'Load an LMS export of staff and superusers, replacing the last one',
    description:
      'Rows of auth_user as {"learners": [{"id", "is_staff", "is_superuser"}, ...]} (flags as booleans, 1/0 or "true"/"false"): the whole list, so learners left out lose their attributes. Validated whole (every problem listed) before anything changes; recorded in the audit trail with the token name. Workers apply it within EXPERIMENTS_REFRESH_MS.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      example: { learners: [{ id: 42, is_staff: true, is_superuser: false }] },
    },
  })
  @ApiOkResponse({
    description: 'The import as recorded: counts of learners added, changed, removed',
  })
  @ApiBadRequestResponse({ description: 'Every problem with the rows, listed' })
  @ApiForbiddenResponse({ description: 'A reader token' })
  async load(@Body() body: unknown, @Actor() actor: string): Promise<AttributeImport> {
    const result = validateLearnerAttributesBody(body);
    if (!result.ok) throw badRequest(result.problems);
    return this.attributes.replaceAll(result.value, { actor, source: 'api' });
  }

  @Get()
  @ApiOperation({ summary: 'The staff and superusers the last export loaded names' })
  @ApiOkResponse({ description: '{ learners: [{ userId, isStaff, isSuperuser }] }' })
  async list(): Promise<{ learners: LearnerAttributes[] }> {
    const learners = await this.attributes.all();
    return { learners: learners.sort((a, b) => a.userId - b.userId) };
  }

  @Get('imports')
  @ApiOperation({
    summary: 'Every export loaded, newest first: who, when, from where, what changed',
  })
  @ApiOkResponse({ description: '{ imports: [...] }' })
  async imports(): Promise<{ imports: AttributeImport[] }> {
    return { imports: await this.attributes.history() };
  }
}
