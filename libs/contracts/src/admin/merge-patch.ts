import { isPlainObject } from '../json';

/**
 * RFC 7396 JSON merge patch: objects merge key by key, `null` removes a key, anything else
 * (arrays included) replaces. It lets a partial update name just what changes, e.g.
 * `{"flag": {"courses": {"course-v1:MITx+6.00x+2026": "off"}}}` or
 * `{"keyValues": {"enrollment_end": null}}`.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
