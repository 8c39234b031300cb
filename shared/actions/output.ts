/**
 * Output schemas are the contract OpenAPI (success responses) and MCP (`outputSchema`,
 * `structuredContent`) publish for each action. The tests hold every real result to it:
 * with ACTION_OUTPUT_CHECK=strict (set for every Jest worker in test/support/quiet.ts) a result
 * that does not parse, or carries a field the schema does not name, throws, failing whichever test
 * made the call. In production nothing is checked: no cost per response.
 */
import { appendFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { Action } from './types';

/** A list page: `items` and, when more exist, the opaque `nextCursor` to pass as `cursor`. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .optional()
      .describe('Present when more items exist: pass it as `cursor` to get the next page.'),
  });
}

/** `{ <id field>: id, deleted: true }`, what delete actions answer. */
export function deletedOf<K extends string>(idField: K) {
  return z.object({ [idField]: z.string(), deleted: z.literal(true) } as Record<K, z.ZodString> & {
    deleted: z.ZodLiteral<true>;
  });
}

function strict(): boolean {
  return process.env.ACTION_OUTPUT_CHECK === 'strict';
}

/** Tests: the ids of the actions whose results were checked go to this file (one line each). */
function recordChecked(actionId: string): void {
  const file = process.env.ACTION_OUTPUT_LOG;
  if (file) appendFileSync(file, `${actionId}\n`);
}

/** Throws when checking is on and `output` is not exactly what the action's schema describes. */
export function checkOutput(action: Action, output: unknown): void {
  if (!strict() || !action.output) return;
  const parsed = action.output.safeParse(output);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`${action.id} returned a result its output schema rejects: ${issues}`);
  }
  // Object schemas drop keys they do not name: a difference means an undocumented field.
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(parsed.data)), JSON.parse(JSON.stringify(output)))) {
    throw new Error(
      `${action.id} returned fields its output schema does not name: ${JSON.stringify(output).slice(0, 300)}`,
    );
  }
  recordChecked(action.id);
}

/** The JSON Schema keyword that marks untrusted text (its value says where the text comes from). */
export const UNTRUSTED = 'x-untrusted';

/** Where untrusted text comes from; MCP envelopes name it with the id of the item holding it. */
export type UntrustedSource = 'mail' | 'event' | 'file' | 'teams' | 'task' | 'list';

/**
 * Marks text that comes from outside the user's control: mail subjects and bodies, chat and
 * channel messages, event descriptions, file names, the names other people give themselves.
 * OpenAPI shows it as `x-untrusted`; MCP results wrap each such value in an envelope
 * (shared/mcp/untrusted.ts, docs/assistants.md) so an assistant can keep it from being read as
 * instructions. Apply it outermost (after describe, optional, nullable).
 */
export function untrusted<T extends z.ZodType>(schema: T, source: UntrustedSource): T {
  return schema.meta({ ...(schema.meta() ?? {}), [UNTRUSTED]: source });
}
