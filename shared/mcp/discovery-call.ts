/**
 * The discovery tools at work (shared/mcp/discovery.ts): search_tools ranks the user's tools,
 * get_tool_schema returns one definition, call_tool runs one through the same path as a direct
 * call (validation, grants, read-only, the destructive-tool dry run, idempotency).
 */
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Action } from '../actions/types';
import { Problem } from '../http/problem';
import { invalidInput } from '../http/validate';
import { CALL_TOOL, DISCOVERY_TOOLS, GET_TOOL_SCHEMA, rankTools, SEARCH_TOOLS } from './discovery';
import { problemResult, successResult } from './results';
import { isTool, toolAction, toolDefinition } from './tools';

export function isDiscoveryTool(name: string): boolean {
  return DISCOVERY_TOOLS.some((t) => t.name === name);
}

interface DiscoveryEnv {
  /** The tools this user may use (granted features, read-only mode). */
  available(): Promise<Tool[]>;
  call(action: Action, args: Record<string, unknown>): Promise<CallToolResult>;
  requestId: string;
}

function text(args: Record<string, unknown>, field: string, max: number): string {
  const v = args[field];
  if (typeof v !== 'string' || v.trim().length === 0 || v.length > max)
    throw invalidInput([{ field, message: `must be a non-empty string of at most ${max} characters` }]);
  return v;
}

function toolNamed(name: string): Action {
  const action = toolAction(name);
  if (!action || !isTool(action) || isDiscoveryTool(name)) {
    throw new Problem('not_found', `No tool named "${name.slice(0, 100)}": use search_tools to find one.`);
  }
  return action;
}

export async function callDiscoveryTool(
  name: string,
  args: Record<string, unknown>,
  env: DiscoveryEnv,
): Promise<CallToolResult> {
  try {
    if (name === SEARCH_TOOLS) {
      const query = text(args, 'query', 300);
      const limit = args.limit ?? 8;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 25)
        throw invalidInput([{ field: 'limit', message: 'must be a whole number from 1 to 25' }]);
      const ranked = rankTools(await env.available(), query, limit);
      return successResult(SEARCH_TOOLS, {
        items: ranked.map((t) => ({
          name: t.name,
          summary: t.title ?? t.name,
          kind: (t._meta as { kind?: string } | undefined)?.kind ?? 'read',
          feature: (t._meta as { feature?: string } | undefined)?.feature ?? 'base',
          score: t.score,
        })),
      });
    }
    if (name === GET_TOOL_SCHEMA) {
      return successResult(GET_TOOL_SCHEMA, toolDefinition(toolNamed(text(args, 'name', 100))));
    }
    if (name === CALL_TOOL) {
      const action = toolNamed(text(args, 'name', 100));
      const inner = args.arguments ?? {};
      if (typeof inner !== 'object' || inner === null || Array.isArray(inner))
        throw invalidInput([{ field: 'arguments', message: 'must be an object' }]);
      return await env.call(action, inner as Record<string, unknown>);
    }
    throw new Problem('not_found', `No discovery tool named "${name.slice(0, 100)}".`);
  } catch (err) {
    if (err instanceof Problem) return problemResult(err, env.requestId);
    throw err;
  }
}
