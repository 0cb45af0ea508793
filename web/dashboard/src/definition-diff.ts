// What a change to an experiment's definition did, field by field, for people reading its
// history. Pure: no DOM, so it is unit-tested on its own.

export interface FieldChange {
  /** Dotted path of the field (`flag.courses.course-v1:MITx+6.00x+2026`), array items by index. */
  path: string;
  /** Absent when the field was added. */
  before?: unknown;
  /** Absent when the field was removed. */
  after?: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every leaf that differs between two JSON values, in the order of their keys. */
export function definitionChanges(before: unknown, after: unknown, path = ''): FieldChange[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => {
      const child = path ? `${path}.${key}` : key;
      if (!(key in after)) return [{ path: child, before: before[key] }];
      if (!(key in before)) return [{ path: child, after: after[key] }];
      return definitionChanges(before[key], after[key], child);
    });
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const changes: FieldChange[] = [];
    for (let index = 0; index < Math.max(before.length, after.length); index++) {
      const child = `${path}[${index}]`;
      if (index >= after.length) changes.push({ path: child, before: before[index] });
      else if (index >= before.length) changes.push({ path: child, after: after[index] });
      else changes.push(...definitionChanges(before[index], after[index], child));
    }
    return changes;
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, before, after }];
}
