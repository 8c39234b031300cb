/** Input validation at the edge: zod schemas, every bad field named in one 400 `invalid_input`. */
import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import { HEADER_SAFE } from './headers';
import { Problem } from './problem';

export interface FieldError {
  field: string;
  message: string;
}

/** The schema of the field at `path`, through optional/nullable/default wrappers, objects and arrays. */
function schemaAt(schema: z.ZodType | undefined, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: unknown = schema;
  const unwrap = (x: unknown): unknown => {
    let cur = x;
    while (
      cur instanceof z.ZodOptional ||
      cur instanceof z.ZodNullable ||
      cur instanceof z.ZodDefault ||
      cur instanceof z.ZodPipe
    ) {
      cur = cur instanceof z.ZodPipe ? cur.in : (cur as z.ZodOptional<z.ZodType>).unwrap();
    }
    return cur;
  };
  for (const key of path) {
    const inner = unwrap(s);
    if (inner instanceof z.ZodObject && typeof key === 'string')
      s = (inner.shape as Record<string, unknown>)[key];
    else if (inner instanceof z.ZodArray && typeof key === 'number') s = inner.element;
    else return undefined;
  }
  return s as z.ZodType | undefined;
}

function describeField(schema: z.ZodType | undefined): string | undefined {
  let s: unknown = schema;
  for (let i = 0; i < 5 && s; i++) {
    const description = (s as { description?: string }).description;
    if (description) return description.replace(/\.$/, '');
    s =
      s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault
        ? (s as z.ZodOptional<z.ZodType>).unwrap()
        : undefined;
  }
  return undefined;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/**
 * Every bad field with a message a person can act on: a missing field says it is required and
 * what is expected (from the schema's description), a value in no accepted form says which forms
 * are, a wrong type names the expected one; never a bare "Invalid input".
 */
export function fieldErrors(error: z.ZodError, schema?: z.ZodType, input?: unknown): FieldError[] {
  return error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : '(body)';
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
    else if (issue.path.length && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
      const expected = describeField(schemaAt(schema, issue.path));
      const missing = input !== undefined && valueAt(input, issue.path) === undefined;
      if (missing) message = `${field} is required${expected ? `: ${expected}` : ''}`;
      else if (issue.code === 'invalid_union')
        message = `${field} is not in an accepted form${expected ? `: ${expected}` : ''}`;
      else if (/^Invalid input: expected (\w+), received (\w+)$/.test(issue.message)) {
        const [, want, got] = /^Invalid input: expected (\w+), received (\w+)$/.exec(issue.message)!;
        message = `${field} must be ${/^[aeiou]/.test(want!) ? 'an' : 'a'} ${want} (got ${got})${expected ? `: ${expected}` : ''}`;
      }
    }
    return { field, message };
  });
}

export function invalidInput(errors: FieldError[]): Problem {
  const names = [...new Set(errors.map((e) => e.field))];
  return new Problem('invalid_input', `Fix these fields: ${names.join(', ')}.`, { errors });
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput(fieldErrors(result.error, schema, value));
  return result.data;
}

/** A string input sent on to Graph in a header (validated here, naming the field). */
export function headerText(max: number) {
  return z.string().max(max).regex(HEADER_SAFE, 'must be printable ASCII (it is sent in an HTTP header)');
}

/** Largest JSON body an action accepts (uploads stream separately). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;
const MAX_JSON_DEPTH = 32;

function depth(value: unknown, level = 0): number {
  if (level > MAX_JSON_DEPTH) return level;
  if (value && typeof value === 'object') {
    let max = level;
    for (const v of Object.values(value as Record<string, unknown>)) max = Math.max(max, depth(v, level + 1));
    return max;
  }
  return level;
}

/** Reads a JSON body with a size and nesting limit; an empty body is `{}`. */
/**
 * Reads and parses a JSON body of at most `limit` bytes. `limitFor` tightens the limit once the
 * body is parsed, for endpoints whose limit depends on what is asked (an MCP tools/call weighs
 * what its action accepts); it is checked against the bytes actually read.
 */
export async function readJson(
  request: HttpRequest,
  limit = MAX_JSON_BODY_BYTES,
  limitFor?: (value: unknown) => number,
): Promise<unknown> {
  const type = request.headers.get('content-type') ?? '';
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > limit) throw new Problem('payload_too_large', `The JSON body may be at most ${limit} bytes.`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > limit)
        throw new Problem('payload_too_large', `The JSON body may be at most ${limit} bytes.`);
      chunks.push(chunk);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  if (type && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw new Problem('unsupported_media_type', 'Send the body as application/json.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidInput([{ field: '(body)', message: 'is not valid JSON' }]);
  }
  if (depth(value) > MAX_JSON_DEPTH)
    throw invalidInput([{ field: '(body)', message: `nests deeper than ${MAX_JSON_DEPTH} levels` }]);
  const allowed = limitFor?.(value);
  if (allowed !== undefined && size > allowed) {
    throw new Problem(
      'payload_too_large',
      `This JSON body is ${size} bytes; what it asks for accepts at most ${allowed}.`,
      {
        limitBytes: allowed,
      },
    );
  }
  return value;
}

/**
 * Query parameters as a plain object (for strict zod schemas). `code` is the function key when
 * sent as a query parameter (Azure's documented alternative to x-functions-key): it belongs to the
 * host, not to the input.
 */
export function queryObject(request: HttpRequest): Record<string, string> {
  const out = Object.fromEntries(request.query.entries());
  delete out.code;
  return out;
}
