/** A JSON object (not null, not an array): what bodies, definitions and patches must be. */
export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
