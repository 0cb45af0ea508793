import {
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
} from 'class-validator';

/** A flag as written in definitions; omitted fields take the waffle defaults. */
export class FlagRuleDto {
  @IsOptional()
  @IsBoolean({ message: 'must be true, false or null' })
  everyone?: boolean | null;

  @IsOptional()
  @IsNumber(
    { allowNaN: false, allowInfinity: false },
    { message: 'must be a number from 0 to 100 or null' },
  )
  @Min(0, { message: 'must be a number from 0 to 100 or null' })
  @Max(100, { message: 'must be a number from 0 to 100 or null' })
  percent?: number | null;

  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  authenticated?: boolean;

  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  staff?: boolean;

  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  superusers?: boolean;

  @IsOptional()
  @IsArray({ message: 'must be a list of usernames' })
  @IsString({ each: true, message: 'must be a list of usernames' })
  users?: string[];

  /** Course key → "on" | "off"; checked entry by entry in the validator. */
  @IsOptional()
  @IsObject({ message: 'must be an object of course key → "on" or "off"' })
  courses?: Record<string, unknown>;

  /** Org → "on" | "off"; checked entry by entry in the validator. */
  @IsOptional()
  @IsObject({ message: 'must be an object of org → "on" or "off"' })
  orgs?: Record<string, unknown>;
}

const NAME_PART = /^[A-Za-z0-9_-]+(?:[.][A-Za-z0-9_-]+)*$/;

/** One experiment as written in files, sent to the API and stored. */
export class ExperimentDefinitionDto {
  /** No dots: "namespace.name" splits at its first dot. */
  @IsString({ message: 'must be a string' })
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'must be letters, digits, "_" or "-"' })
  namespace!: string;

  @IsString({ message: 'must be a string' })
  @Matches(NAME_PART, { message: 'must be letters, digits, "_", "-" and inner dots' })
  name!: string;

  @IsOptional()
  @IsInt({ message: 'must be a whole number' })
  @Min(0, { message: 'must be 0 or more' })
  experimentId?: number;

  @IsOptional()
  @IsInt({ message: 'must be a whole number from 1 to 1000' })
  @Min(1, { message: 'must be a whole number from 1 to 1000' })
  @Max(1000, { message: 'must be a whole number from 1 to 1000' })
  numBuckets?: number;

  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  courseAwareBucketing?: boolean;

  @IsOptional()
  @IsIn(['course', 'global'], { message: 'must be "course" or "global"' })
  scope?: 'course' | 'global';

  @IsOptional()
  @IsArray({ message: 'must be a list of "page_view" and "enrollment"' })
  @IsIn(['page_view', 'enrollment'], {
    each: true,
    message: 'must be a list of "page_view" and "enrollment"',
  })
  @ArrayUnique({ message: 'must not repeat a trigger' })
  triggers?: ('page_view' | 'enrollment')[];

  /** The main flag; checked as a FlagRuleDto in the validator. Absent or null: off. */
  @IsOptional()
  @IsObject({ message: 'must be a flag object or null' })
  flag?: Record<string, unknown> | null;

  /** Bucket number → flag; checked entry by entry in the validator. */
  @IsOptional()
  @IsObject({ message: 'must be an object of bucket number → flag' })
  bucketFlags?: Record<string, unknown>;

  /** ExperimentKeyValue rows, e.g. enrollment_start / enrollment_end. */
  @IsOptional()
  @IsObject({ message: 'must be an object of string values' })
  keyValues?: Record<string, unknown>;

  /** Raised to re-randomize new decisions; 0 or absent: edx-platform's hash. */
  @IsOptional()
  @IsInt({ message: 'must be a whole number from 0 to 1000000' })
  @Min(0, { message: 'must be a whole number from 0 to 1000000' })
  @Max(1_000_000, { message: 'must be a whole number from 0 to 1000000' })
  bucketVersion?: number;

  /** Version → ISO time it took effect; checked entry by entry in the validator. */
  @IsOptional()
  @IsObject({ message: 'must be an object of version → ISO-8601 time' })
  bucketVersionFrom?: Record<string, unknown>;

  /** `{"name", "percent"}`; checked field by field in the validator. */
  @IsOptional()
  @IsObject({ message: 'must be an object {"name", "percent"}' })
  holdout?: Record<string, unknown>;

  /** `{"name", "range": [start, end]}`; checked field by field in the validator. */
  @IsOptional()
  @IsObject({ message: 'must be an object {"name", "range": [start, end]}' })
  layer?: Record<string, unknown>;
}
