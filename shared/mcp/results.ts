/**
 * Tool results: structured content (the action output) with a short text rendering for clients
 * that only show text to the model. Errors are tool errors (`isError`) whose text carries the
 * problem (a line for the model, then the problem+json body),
 * not JSON-RPC errors, so the model sees them and can act (MCP spec, tools § Error Handling:
 * https://modelcontextprotocol.io/specification/2025-06-18/server/tools#error-handling).
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { problemBody, type Problem } from '../http/problem';

/** Text beyond this is cut: the structured content always carries everything. */
export const MAX_TEXT_CHARS = 8000;

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : { result: value };
}

function clip(json: string): string {
  return json.length <= MAX_TEXT_CHARS
    ? json
    : `${json.slice(0, MAX_TEXT_CHARS)}… (cut; the full result is in the structured content)`;
}

function headline(actionId: string, output: Record<string, unknown>): string {
  if (Array.isArray(output.items)) {
    const more =
      typeof output.nextCursor === 'string'
        ? ' More are available: call again with "cursor" set to nextCursor.'
        : ' This is the last page.';
    return `${actionId}: ${output.items.length} item(s).${more}`;
  }
  return `${actionId}: done.`;
}

export function successResult(actionId: string, output: unknown): CallToolResult {
  const structured = record(output);
  return {
    content: [
      { type: 'text', text: `${headline(actionId, structured)}\n${clip(JSON.stringify(structured))}` },
    ],
    structuredContent: structured,
  };
}

/** A problem as a tool error: the same body (code, detail, extensions) as the HTTP problem+json. */
export function problemResult(problem: Problem, requestId?: string): CallToolResult {
  const body = problemBody(problem, requestId);
  const hints: string[] = [];
  if (typeof body.authorizationUrl === 'string')
    hints.push(`Send the user to this URL to fix it: ${body.authorizationUrl}`);
  if (typeof body.retryAfter === 'number') hints.push(`Retry after ${body.retryAfter} s.`);
  if (Array.isArray(body.errors)) {
    const fields = (body.errors as Array<{ field?: string; message?: string }>)
      .map((e) => `${e.field ?? '?'} ${e.message ?? ''}`.trim())
      .join('; ');
    hints.push(`Fields: ${fields}.`);
  }
  return {
    isError: true,
    // No structuredContent: a client validates it against the tool's output schema, which
    // describes success (the TypeScript SDK client refuses a mismatch even on errors).
    content: [
      { type: 'text', text: [`${body.code}: ${body.detail}`, ...hints].join('\n') },
      { type: 'text', text: JSON.stringify(body) },
    ],
  };
}

/** The structured content of a dry run (part of every destructive tool's output schema). */
export const DRY_RUN_SCHEMA = {
  type: 'object',
  properties: {
    dryRun: { type: 'boolean', const: true },
    changed: { type: 'boolean', const: false },
    action: { type: 'string' },
    wouldDo: { type: 'string' },
    targetIds: {
      type: 'object',
      additionalProperties: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    },
    next: { type: 'string' },
  },
  required: ['dryRun', 'changed', 'action', 'wouldDo', 'targetIds', 'next'],
  additionalProperties: false,
} as const;

/** What a destructive tool answers without confirm: nothing changed, and what would. */
export function dryRunResult(
  actionId: string,
  summary: string,
  targetIds: Record<string, string | string[]>,
): CallToolResult {
  const ids = Object.entries(targetIds)
    .map(([field, id]) => `${field} ${Array.isArray(id) ? id.join(', ') : id}`)
    .join('; ');
  const structured = {
    dryRun: true,
    changed: false,
    action: actionId,
    wouldDo: summary,
    targetIds,
    next: `Call ${actionId} again with the same arguments and "confirm": true to do it.`,
  };
  return {
    content: [
      {
        type: 'text',
        text: `Dry run, nothing changed. ${actionId} would: ${summary}${ids ? ` (${ids})` : ''}. Ask the user; to do it, call again with the same arguments and "confirm": true.`,
      },
    ],
    structuredContent: structured,
  };
}
