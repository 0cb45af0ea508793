import type { LearnerAttributes } from '@assigner/domain';
import type { Validated } from '../experiments/validate-experiments';
import { isPlainObject } from '../json';

/** Staff and superusers are few; an export this large is of every user (see the README's query). */
export const MAX_EXPORTED_LEARNERS = 100_000;

const TRUE = new Set(['1', 'true', 't', 'yes', 'y']);
const FALSE = new Set(['0', 'false', 'f', 'no', 'n', '']);

/** A Django boolean as databases and their clients export it (1/0, true/false, t/f). */
function flag(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  return TRUE.has(text) ? true : FALSE.has(text) ? false : undefined;
}

function userId(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number > 0
    ? number
    : undefined;
}

/**
 * Learner attributes from rows of `auth_user`: each needs a user id and the two flags; every
 * problem is listed, by `where` the row is (a line, an index). Learners neither staff nor
 * superuser are dropped (nothing to remember of them).
 */
export function validateLearnerAttributeRows(
  rows: readonly { where: string; id: unknown; isStaff: unknown; isSuperuser: unknown }[],
): Validated<LearnerAttributes[]> {
  const problems: string[] = [];
  const seen = new Map<number, string>();
  const learners: LearnerAttributes[] = [];
  for (const row of rows) {
    const id = userId(row.id);
    const isStaff = flag(row.isStaff);
    const isSuperuser = flag(row.isSuperuser);
    if (id === undefined)
      problems.push(`${row.where}: id ${JSON.stringify(row.id)} is not a user id`);
    if (isStaff === undefined)
      problems.push(
        `${row.where}: is_staff ${JSON.stringify(row.isStaff)} is not 1/0 or true/false`,
      );
    if (isSuperuser === undefined)
      problems.push(
        `${row.where}: is_superuser ${JSON.stringify(row.isSuperuser)} is not 1/0 or true/false`,
      );
    if (id === undefined || isStaff === undefined || isSuperuser === undefined) continue;
    const first = seen.get(id);
    if (first !== undefined) problems.push(`${row.where}: user ${id} is already in ${first}`);
    seen.set(id, row.where);
    if (isStaff || isSuperuser) learners.push({ userId: id, isStaff, isSuperuser });
  }
  if (learners.length > MAX_EXPORTED_LEARNERS)
    problems.push(
      `${learners.length} staff or superusers, more than ${MAX_EXPORTED_LEARNERS}: export only the rows WHERE is_staff OR is_superuser`,
    );
  return problems.length > 0
    ? { ok: false, problems }
    : { ok: true, value: learners, warnings: [] };
}

/**
 * An export of the LMS's `auth_user` table as CSV or as a tab-separated `mysql --batch` dump: a
 * header naming `id` (or `user_id`), `is_staff` and `is_superuser` (other columns, such as
 * `username`, are ignored), then a row per user.
 */
export function parseLmsUserExport(text: string): Validated<LearnerAttributes[]> {
  const lines = text.split(/\r?\n/);
  const headerIndex = lines.findIndex((line) => line.trim() !== '');
  if (headerIndex === -1) return { ok: false, problems: ['the export is empty'] };
  const separator = lines[headerIndex]!.includes('\t') ? '\t' : ',';
  const split = (line: string) =>
    line.split(separator).map((cell) => cell.trim().replace(/^"(.*)"$/, '$1'));
  const header = split(lines[headerIndex]!).map((name) => name.toLowerCase());
  const column = (...names: string[]) => header.findIndex((name) => names.includes(name));
  const columns = {
    id: column('id', 'user_id'),
    staff: column('is_staff'),
    superuser: column('is_superuser'),
  };
  const missing = [
    columns.id === -1 && 'id (or user_id)',
    columns.staff === -1 && 'is_staff',
    columns.superuser === -1 && 'is_superuser',
  ].filter(Boolean);
  if (missing.length > 0)
    return {
      ok: false,
      problems: [
        `line ${headerIndex + 1}: the header must name ${missing.join(', ')} (it has ${header.join(', ')})`,
      ],
    };
  const rows = lines.flatMap((line, index) => {
    if (index <= headerIndex || line.trim() === '') return [];
    const cells = split(line);
    return [
      {
        where: `line ${index + 1}`,
        id: cells[columns.id],
        isStaff: cells[columns.staff],
        isSuperuser: cells[columns.superuser],
      },
    ];
  });
  return validateLearnerAttributeRows(rows);
}

/**
 * The admin API's form of an export, `{"learners": [{"id", "is_staff", "is_superuser"}]}`
 * (`username` allowed and ignored): every problem of its shape and rows, listed.
 */
export function validateLearnerAttributesBody(body: unknown): Validated<LearnerAttributes[]> {
  if (!isPlainObject(body) || !Array.isArray(body.learners))
    return {
      ok: false,
      problems: ['body: must be {"learners": [{"id", "is_staff", "is_superuser"}, ...]}'],
    };
  const problems: string[] = [];
  const rows = body.learners.flatMap((row: unknown, index) => {
    const where = `body.learners[${index}]`;
    if (!isPlainObject(row)) {
      problems.push(`${where}: must be an object`);
      return [];
    }
    const { id, is_staff, is_superuser, ...rest } = row;
    for (const key of Object.keys(rest))
      if (key !== 'username') problems.push(`${where}.${key}: is not a known field`);
    return [{ where, id, isStaff: is_staff, isSuperuser: is_superuser }];
  });
  const result = validateLearnerAttributeRows(rows);
  if (!result.ok) problems.push(...result.problems);
  return problems.length > 0 || !result.ok ? { ok: false, problems } : result;
}
