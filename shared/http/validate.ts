/** Input validation at the edge: zod schemas, every bad field named in one 400 `invalid_input`. */
import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import { HEADER_SAFE } from './headers';
import { Problem } from './problem';

export interface FieldError {
  field: string;
  message: string;
}

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
    return { field: issue.path.length ? issue.path.join('.') : '(body)', message };
  });
}

export function invalidInput(errors: FieldError[]): Problem {
  const names = [...new Set(errors.map((e) => e.field))];
  return new Problem('invalid_input', `Fix these fields: ${names.join(', ')}.`, { errors });
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput(fieldErrors(result.error));
  return result.data;
}

/** Largest JSON body an action accepts (uploads stream separately). */
/** A string input sent on to Graph in a header (validated here, naming the field). */
export function headerText(max: number) {
  return z.string().max(max).regex(HEADER_SAFE, 'must be printable ASCII (it is sent in an HTTP header)');
}

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
export async function readJson(request: HttpRequest, limit = MAX_JSON_BODY_BYTES): Promise<unknown> {
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
