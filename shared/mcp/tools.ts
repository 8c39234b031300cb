/**
 * MCP tool definitions generated from the action declarations, so every action a service engineer
 * declares is offered without touching this module. The input schema is the very JSON Schema the
 * OpenAPI document uses (`inputSchema` in shared/actions/openapi.ts), plus `confirm` on
 * destructive tools; annotations come from the declaration's kind and idempotency.
 *
 * Not offered: actions whose HTTP face is a raw byte stream (`streamBody` uploads and
 * `httpMethod: 'GET'` downloads). A tool result is JSON for a model; a download answers bytes or
 * a 302 to a pre-authenticated URL, and an upload needs the raw request body, neither of which a
 * JSON-RPC `tools/call` can carry. Assistants use the HTTP routes for those (see OpenAPI).
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Feature } from '../config';
import { inputSchema } from '../actions/openapi';
import { allActions, getAction } from '../actions/registry';
import type { Action } from '../actions/types';
import { DRY_RUN_SCHEMA } from './results';
import { toolOutputSchemas } from './untrusted';

/** The argument a destructive tool needs to act; without it the tool only describes what it would do. */
export const CONFIRM = 'confirm';

export const CONFIRM_SCHEMA = {
  type: 'boolean',
  description:
    'Must be true to really do it. Without it (or false) nothing changes: the tool answers with what it would do, so you can show the user and ask first.',
} as const;

/** A guarded send's confirmation token (from its `confirmation_required` preview). */
export const CONFIRMATION_TOKEN = 'confirmationToken';

const GUARD_CONFIRM_SCHEMA = {
  type: 'boolean',
  description:
    'Only after the user saw the preview from a confirmation_required answer and agreed: true, together with its confirmationToken.',
} as const;

const CONFIRMATION_TOKEN_SCHEMA = {
  type: 'string',
  maxLength: 200,
  description:
    'The confirmationToken of the confirmation_required answer for this very message (any change to the message needs a new one).',
} as const;

/** Why an action is not a tool, or undefined when it is one. */
export function notOfferedReason(action: Action): string | undefined {
  if (action.streamBody)
    return `${action.id} uploads a raw byte stream, which a tool call cannot carry; use its HTTP route.`;
  if (action.httpMethod === 'GET')
    return `${action.id} answers with raw content (a byte stream or a redirect), not JSON; use its HTTP route.`;
  return undefined;
}

export function isTool(action: Action): boolean {
  return notOfferedReason(action) === undefined;
}

/** What a model reads: the declaration's description plus the rules the server applies. */
export function toolDescription(action: Action): string {
  const notes: string[] = [];
  if (action.kind === 'read') notes.push('Read-only: changes nothing.');
  if (action.kind === 'destructive') {
    notes.push(
      'Destructive: without "confirm": true it changes nothing and answers with what it would do (action and target ids); ask the user, then call again with "confirm": true.',
    );
  }
  if (action.guard) {
    notes.push(
      'Sends a message: when the user\'s send policy asks for it (external or new recipients), it sends nothing and answers confirmation_required with a preview and a confirmationToken; show the preview to the user and, only if they agree, call again with the same arguments plus "confirm": true and "confirmationToken". An undo window may delay the send (see undoUntil in the result).',
    );
  }
  if (action.kind !== 'read' && !action.idempotent)
    notes.push('Not idempotent: calling it twice does it twice.');
  if (action.idempotencyKey) {
    notes.push(
      'To make a retry safe, send the same unique key as `_meta.idempotencyKey` of the tools/call request (it replaces the HTTP Idempotency-Key header): a repeat within 24 h returns the first result and does nothing again.',
    );
  }
  if (action.feature !== 'base') notes.push(`Needs the "${action.feature}" feature.`);
  notes.push(
    'Failures come back as a tool error whose structured content is a problem with a stable `code` (e.g. feature_not_granted or reauth_required with `authorizationUrl`, throttled with `retryAfter` seconds, invalid_input with `errors`).',
  );
  return `${action.description}\n\n${notes.join(' ')}`;
}

/** The server's own argument on every tool: which of the user's Microsoft accounts to act as. */
export const ACCOUNT = 'account';
const ACCOUNT_SCHEMA = {
  type: 'string',
  minLength: 1,
  maxLength: 320,
  description:
    "Which of the user's connected Microsoft accounts to act as: its email or id (GET /api/connections/me lists them). Leave it out for the default account.",
};

/**
 * The tool's input schema: the OpenAPI request schema, with `account` (any tool), `confirm` on
 * destructive tools and `confirmationToken` on guarded sends added.
 */
export function toolInputSchema(action: Action): Tool['inputSchema'] {
  const schema = inputSchema(action);
  if (!schema.properties && action.kind !== 'destructive' && !action.guard)
    return schema as Tool['inputSchema'];
  const properties = { ...((schema.properties as Record<string, unknown> | undefined) ?? {}) };
  if (schema.properties) properties[ACCOUNT] = ACCOUNT_SCHEMA;
  if (action.guard) {
    properties[CONFIRM] = GUARD_CONFIRM_SCHEMA;
    properties[CONFIRMATION_TOKEN] = CONFIRMATION_TOKEN_SCHEMA;
  } else if (action.kind === 'destructive') properties[CONFIRM] = CONFIRM_SCHEMA;
  return { ...schema, type: 'object', properties } as Tool['inputSchema'];
}

/** MCP requires `type: "object"` at the root: a union of object shapes (anyOf) gets it said. */
export function rootObject(schema: Record<string, unknown>): Record<string, unknown> {
  return schema.type === 'object' ? schema : { type: 'object', ...schema };
}

/** The result's schema; a destructive tool may also answer with a dry run (without confirm). */
function toolOutputSchema(action: Action): Tool['outputSchema'] {
  const enveloped = rootObject(toolOutputSchemas(action)!.enveloped);
  if (action.kind !== 'destructive') return enveloped as Tool['outputSchema'];
  return { type: 'object', anyOf: [enveloped, DRY_RUN_SCHEMA] };
}

export function toolDefinition(action: Action): Tool {
  return {
    name: action.id,
    title: action.summary,
    description: toolDescription(action),
    inputSchema: toolInputSchema(action),
    // The result's shape; `structuredContent` conforms to it (held to it in the tests).
    // Untrusted text comes enveloped (shared/mcp/untrusted.ts), and the schema says so.
    ...(action.output ? { outputSchema: toolOutputSchema(action) } : {}),
    annotations: {
      title: action.summary,
      readOnlyHint: action.kind === 'read',
      // MCP's default for a non-read tool is destructive: say false explicitly for plain writes.
      destructiveHint: action.kind === 'destructive',
      idempotentHint: action.idempotent,
      // Everything acts on the user's Microsoft 365 account, a world outside this server.
      openWorldHint: true,
    },
    _meta: { feature: action.feature, kind: action.kind },
  };
}

export interface ToolPolicy {
  /** Features the user's connection grants ('base' actions are always offered). */
  granted: readonly Feature[];
  /** MCP_READ_ONLY: only kind 'read' tools are listed and callable. */
  readOnly: boolean;
}

/** Tools offered to one user: granted features (plus base), read-only when the server is. */
export function toolsFor(policy: ToolPolicy): Tool[] {
  return allActions()
    .filter(isTool)
    .filter((a) => !policy.readOnly || a.kind === 'read')
    .filter((a) => a.feature === 'base' || policy.granted.includes(a.feature))
    .map(toolDefinition);
}

/** The action behind a tool name (any declared action, granted or not: the call then explains why not). */
export function toolAction(name: string): Action | undefined {
  return getAction(name);
}
