/** Generated bad inputs for sweeps over JSON schemas (test/e2e/bad-input-sweep, openapi-fuzz). */
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
}

/** A value of the wrong type for the schema (the first of its types, or of its first alternative). */
export function wrongValue(s: Schema | undefined): unknown {
  const type = Array.isArray(s?.type) ? s.type[0] : (s?.type ?? s?.anyOf?.[0]?.type);
  switch (type) {
    case 'string':
      return { not: 'a string' };
    case 'number':
    case 'integer':
      return 'not-a-number';
    case 'boolean':
      return 'maybe';
    case 'array':
      return 'not-an-array';
    case 'object':
      return 42;
    default:
      return { unexpected: [1, 2, 3] };
  }
}
