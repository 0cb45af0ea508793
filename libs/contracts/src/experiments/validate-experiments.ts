import {
  FLAG_RULE_DEFAULTS,
  namespacedName,
  parseIsoMicros,
  type Experiment,
  type FlagRule,
  type HoldoutRule,
  type LayerSlot,
  type Toggle,
} from '@assigner/domain';
import { isPlainObject } from '../json';
import { problemsOfExperimentSet } from './experiment-set-rules';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { ExperimentDefinitionDto, FlagRuleDto } from './experiment-definition.dto';

export type Validated<T> =
  { ok: true; value: T; warnings: string[] } | { ok: false; problems: string[] };

/** class-validator's error tree as "path: message" lines. */
export function describeValidationErrors(errors: ValidationError[], path: string): string[] {
  // Several constraints of one field often share a message: say it once.
  const lines = errors.flatMap((error) => {
    const here = `${path}.${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith('property ') ? `${here}: is not a known field` : `${here}: ${message}`,
    );
    return [...own, ...describeValidationErrors(error.children ?? [], here)];
  });
  return [...new Set(lines)];
}

function validateDto<T extends object>(
  cls: new () => T,
  input: Record<string, unknown>,
  path: string,
): { dto: T; problems: string[] } {
  const dto = plainToInstance(cls, input);
  const errors = validateSync(dto, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
  });
  return { dto, problems: describeValidationErrors(errors, path) };
}

function toggles(
  record: Record<string, unknown> | undefined,
  path: string,
  problems: string[],
): Record<string, Toggle> {
  const result: Record<string, Toggle> = {};
  for (const [key, value] of Object.entries(record ?? {})) {
    if (key.length === 0) problems.push(`${path}: keys must not be empty`);
    else if (value !== 'on' && value !== 'off')
      problems.push(`${path}.${key}: must be "on" or "off"`);
    else result[key] = value;
  }
  return result;
}

function flagRule(input: unknown, path: string, problems: string[]): FlagRule | undefined {
  if (!isPlainObject(input)) {
    problems.push(`${path}: must be an object`);
    return undefined;
  }
  const { dto, problems: found } = validateDto(FlagRuleDto, input, path);
  problems.push(...found);
  return {
    everyone: dto.everyone ?? FLAG_RULE_DEFAULTS.everyone,
    percent: dto.percent ?? FLAG_RULE_DEFAULTS.percent,
    authenticated: dto.authenticated ?? false,
    staff: dto.staff ?? false,
    superusers: dto.superusers ?? false,
    users: dto.users ?? [],
    courses: toggles(dto.courses, `${path}.courses`, problems),
    orgs: toggles(dto.orgs, `${path}.orgs`, problems),
  };
}

const EXPERIMENT_NAME = /^[A-Za-z0-9_-]+[.][A-Za-z0-9_-]+(?:[.][A-Za-z0-9_-]+)*$/;
const LAYER_NAME = /^[A-Za-z0-9_.-]{1,200}$/;
/** A share of 100 in hundredths at most (the hash's resolution). */
const isShare = (value: unknown): value is number =>
  typeof value === 'number' &&
  value >= 0 &&
  value <= 100 &&
  Math.abs(value * 100 - Math.round(value * 100)) < 1e-9;

/** When each bucket version took effect: versions 1 to `top`, times rising with the version. */
function versionStarts(
  input: Record<string, unknown>,
  top: number,
  path: string,
  problems: string[],
): Record<string, string> {
  const starts: Record<string, string> = {};
  let previous: { version: number; at: number } | undefined;
  const entries = Object.entries(input).sort(([a], [b]) => Number(a) - Number(b));
  for (const [key, value] of entries) {
    const version = /^[1-9]\d*$/.test(key) ? Number(key) : undefined;
    const at = typeof value === 'string' ? parseIsoMicros(value) : undefined;
    if (version === undefined || version > top)
      problems.push(
        `${path}.${key}: keys must be bucket versions from 1 to bucketVersion (${top})`,
      );
    if (at === undefined) problems.push(`${path}.${key}: must be an ISO-8601 time`);
    if (version === undefined || version > top || at === undefined) continue;
    if (previous && at < previous.at)
      problems.push(
        `${path}.${key}: version ${version} cannot start before version ${previous.version}`,
      );
    previous = { version, at };
    starts[key] = value as string;
  }
  return starts;
}

function holdoutRule(
  input: Record<string, unknown>,
  path: string,
  problems: string[],
): HoldoutRule {
  const { name, percent, ...rest } = input;
  for (const key of Object.keys(rest)) problems.push(`${path}.${key}: is not a known field`);
  if (typeof name !== 'string' || !EXPERIMENT_NAME.test(name))
    problems.push(`${path}.name: must be "namespace.name" (letters, digits, "_", "-")`);
  if (!isShare(percent))
    problems.push(`${path}.percent: must be a number from 0 to 100, in hundredths at most`);
  return { name: String(name), percent: Number(percent) };
}

function layerSlot(input: Record<string, unknown>, path: string, problems: string[]): LayerSlot {
  const { name, range, ...rest } = input;
  for (const key of Object.keys(rest)) problems.push(`${path}.${key}: is not a known field`);
  if (typeof name !== 'string' || !LAYER_NAME.test(name))
    problems.push(`${path}.name: must be letters, digits, ".", "_" or "-"`);
  const valid =
    Array.isArray(range) &&
    range.length === 2 &&
    isShare(range[0]) &&
    isShare(range[1]) &&
    range[0] < range[1];
  if (!valid)
    problems.push(
      `${path}.range: must be [start, end] with 0 <= start < end <= 100, in hundredths at most`,
    );
  return { name: String(name), range: valid ? [range[0] as number, range[1] as number] : [0, 0] };
}

/**
 * Validates one experiment definition and fills its defaults. Every problem is reported with its
 * path (e.g. `experiments[2].bucketFlags.5: bucket 5 is outside numBuckets 3`). Window bounds
 * that do not parse are accepted, as edx-platform accepts them, with a warning: such an
 * experiment buckets nobody into course decisions until they are fixed.
 */
export function validateExperiment(input: unknown, path = 'experiment'): Validated<Experiment> {
  if (!isPlainObject(input)) return { ok: false, problems: [`${path}: must be an object`] };
  const { dto, problems } = validateDto(ExperimentDefinitionDto, input, path);
  const numBuckets = Number.isInteger(dto.numBuckets) ? dto.numBuckets! : 2;

  const flag = isPlainObject(dto.flag) ? flagRule(dto.flag, `${path}.flag`, problems) : undefined;
  const bucketFlags: Record<number, FlagRule> = {};
  for (const [key, value] of Object.entries(
    isPlainObject(dto.bucketFlags) ? dto.bucketFlags : {},
  )) {
    const bucket = /^(0|[1-9]\d*)$/.test(key) ? Number(key) : undefined;
    if (bucket === undefined)
      problems.push(`${path}.bucketFlags.${key}: keys must be bucket numbers`);
    else if (bucket >= numBuckets)
      problems.push(
        `${path}.bucketFlags.${key}: bucket ${bucket} is outside numBuckets ${numBuckets}`,
      );
    const rule = flagRule(value, `${path}.bucketFlags.${key}`, problems);
    if (bucket !== undefined && rule) bucketFlags[bucket] = rule;
  }

  const keyValues: Record<string, string> = {};
  const warnings: string[] = [];
  for (const [key, value] of Object.entries(isPlainObject(dto.keyValues) ? dto.keyValues : {})) {
    if (typeof value !== 'string') problems.push(`${path}.keyValues.${key}: must be a string`);
    else keyValues[key] = value;
  }
  for (const bound of ['enrollment_start', 'enrollment_end']) {
    const value = keyValues[bound];
    if (value && parseIsoMicros(value) === undefined) {
      warnings.push(
        `${path}.keyValues.${bound}: "${value}" is not an ISO-8601 date; course decisions will not bucket anyone`,
      );
    }
  }
  const bucketVersionFrom = versionStarts(
    isPlainObject(dto.bucketVersionFrom) ? dto.bucketVersionFrom : {},
    dto.bucketVersion ?? 0,
    `${path}.bucketVersionFrom`,
    problems,
  );
  const holdout = isPlainObject(dto.holdout)
    ? holdoutRule(dto.holdout, `${path}.holdout`, problems)
    : undefined;
  const layer = isPlainObject(dto.layer)
    ? layerSlot(dto.layer, `${path}.layer`, problems)
    : undefined;
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    warnings,
    value: {
      namespace: dto.namespace,
      name: dto.name,
      experimentId: dto.experimentId,
      numBuckets,
      courseAwareBucketing: dto.courseAwareBucketing ?? true,
      scope: dto.scope ?? 'course',
      triggers: dto.triggers ?? ['page_view'],
      flag,
      bucketFlags,
      keyValues,
      // Only when set, so that definitions without them stay as they were, byte for byte.
      ...(dto.bucketVersion ? { bucketVersion: dto.bucketVersion } : {}),
      ...(Object.keys(bucketVersionFrom).length > 0 ? { bucketVersionFrom } : {}),
      ...(holdout ? { holdout } : {}),
      ...(layer ? { layer } : {}),
    },
  };
}

/** An experiments file, `{"experiments": [...]}`: all valid, or nothing. */
export function validateExperimentsFile(input: unknown): Validated<Experiment[]> {
  if (!isPlainObject(input) || !Array.isArray(input.experiments)) {
    return {
      ok: false,
      problems: ['experiments: the file must be an object {"experiments": [...]}'],
    };
  }
  const extra = Object.keys(input).filter((key) => key !== 'experiments');
  const problems = extra.map((key) => `${key}: is not a known field`);
  const warnings: string[] = [];
  const experiments: Experiment[] = [];
  const seen = new Map<string, number>();
  input.experiments.forEach((item, index) => {
    const path = `experiments[${index}]`;
    const result = validateExperiment(item, path);
    if (!result.ok) return problems.push(...result.problems);
    warnings.push(...result.warnings);
    const name = namespacedName(result.value);
    const first = seen.get(name);
    if (first !== undefined)
      problems.push(`${path}.name: ${name} is already defined by experiments[${first}]`);
    seen.set(name, index);
    experiments.push(result.value);
  });
  if (problems.length === 0) problems.push(...problemsOfExperimentSet(experiments));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: experiments, warnings };
}
