/** Narrowing helpers for YAML-derived data that the schema may still have refused. */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A field written as one string or a list of them, as a list (non-strings dropped: the schema reports those). */
export const stringList = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.filter((item) => typeof item === 'string')
      : [];
