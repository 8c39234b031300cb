/**
 * `tools/call`: runs the action through executeAction, so validation, feature checks, audit,
 * idempotency, cache and problems are exactly those of the HTTP route. Destructive tools without
 * `confirm: true` only validate and check access, then describe what they would do: no Graph call.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ensureFeature, loadAccountConnection, reauthProblem } from '../auth/token-vault';
import { executeAction, parseInput, type ExecuteEnv } from '../actions/execute';
import { takeAccount } from '../actions/http';
import type { Action } from '../actions/types';
import { toProblem } from '../http/handler';
import { Problem } from '../http/problem';
import { MAX_JSON_BODY_BYTES, invalidInput } from '../http/validate';
import { dryRunResult, problemResult, successResult } from './results';
import { toolOutput } from './untrusted';
import { CONFIRM, CONFIRMATION_TOKEN, notOfferedReason } from './tools';

export interface ToolCallEnv extends Omit<ExecuteEnv, 'headers' | 'bodyStream'> {
  readOnly: boolean;
  /** `_meta.idempotencyKey` of the call (as sent): the MCP stand-in for the HTTP Idempotency-Key header. */
  idempotencyKey?: unknown;
}

/** Top-level input fields that name what the action acts on: `id`, `*Id`, `*Ids`. */
export function targetIds(input: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (input === null || typeof input !== 'object') return out;
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (!(key === 'id' || /Ids?$/.test(key))) continue;
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[key] = value;
  }
  return out;
}

/** The checks a real call would make first, so a dry run never promises what would be refused. */
async function dryRun(action: Action, args: unknown, env: ToolCallEnv): Promise<CallToolResult> {
  const input = parseInput(action, args);
  const connection = await loadAccountConnection(env.userId, env.account);
  if (connection.status === 'reauth_required') throw await reauthProblem(connection);
  if (action.feature !== 'base') await ensureFeature(connection, action.feature);
  for (const feature of action.requires?.(input) ?? []) await ensureFeature(connection, feature);
  return dryRunResult(action.id, action.summary, targetIds(input));
}

function refuse(action: Action, env: ToolCallEnv): Problem | undefined {
  const reason = notOfferedReason(action);
  if (reason) return new Problem('method_not_allowed', reason);
  if (env.readOnly && action.kind !== 'read') {
    return new Problem(
      'method_not_allowed',
      `This MCP server is read-only (MCP_READ_ONLY): ${action.id} is a ${action.kind} action and cannot be called here.`,
      { readOnly: true },
    );
  }
  return undefined;
}

/**
 * Takes the server's own arguments off the tool's: `confirm` (destructive tools and guarded
 * sends) and `confirmationToken` (guarded sends), so the action sees only its input.
 */
function splitConfirm(
  action: Action,
  raw: Record<string, unknown>,
): { args: unknown; confirmed: boolean; token?: string } {
  const takesConfirm = action.kind === 'destructive' || action.guard !== undefined;
  if (!takesConfirm) return { args: raw, confirmed: false };
  const { [CONFIRM]: confirm, [CONFIRMATION_TOKEN]: token, ...args } = raw;
  const errors = [];
  if (confirm !== undefined && typeof confirm !== 'boolean')
    errors.push({ field: CONFIRM, message: 'must be true or false' });
  if (action.guard && token !== undefined && (typeof token !== 'string' || token.length > 200))
    errors.push({
      field: CONFIRMATION_TOKEN,
      message: 'must be the confirmationToken string from the preview',
    });
  if (!action.guard && token !== undefined) return { args: raw, confirmed: confirm === true };
  if (errors.length) throw invalidInput(errors);
  return { args, confirmed: confirm === true, ...(typeof token === 'string' ? { token } : {}) };
}

export async function callTool(
  action: Action,
  rawArgs: Record<string, unknown> | undefined,
  env: ToolCallEnv,
): Promise<CallToolResult> {
  try {
    const refused = refuse(action, env);
    if (refused) throw refused;
    const raw = rawArgs ?? {};
    const limit = action.maxBodyBytes ?? MAX_JSON_BODY_BYTES;
    if (Buffer.byteLength(JSON.stringify(raw)) > limit)
      throw new Problem('payload_too_large', `The arguments of ${action.id} may be at most ${limit} bytes.`);
    const key = env.idempotencyKey;
    if (key !== undefined && (typeof key !== 'string' || key.length < 8 || key.length > 200)) {
      // Never ignore a bad key silently: the caller relies on it to make a retry safe.
      throw invalidInput([
        { field: '_meta.idempotencyKey', message: 'must be a string of 8–200 characters' },
      ]);
    }
    const { input: own, account } = takeAccount(raw);
    const { args, confirmed, token } = splitConfirm(action, own as Record<string, unknown>);
    const chosen = account !== undefined ? { ...env, account } : env;
    if (action.kind === 'destructive' && !confirmed) return await dryRun(action, args, chosen);

    const { readOnly: _readOnly, idempotencyKey, ...rest } = chosen;
    const outcome = await executeAction(action, args, {
      ...rest,
      ...(action.guard && token !== undefined ? { confirmation: { token, confirmed } } : {}),
      headers: new Headers(typeof idempotencyKey === 'string' ? { 'idempotency-key': idempotencyKey } : {}),
    });
    if (outcome.kind === 'raw') {
      throw new Problem('method_not_allowed', `${action.id} answered with raw content; use its HTTP route.`);
    }
    return successResult(action.id, toolOutput(action, outcome.body));
  } catch (err) {
    const problem = toProblem(err);
    if (problem.code === 'internal_error') {
      const e = err as Error & { code?: string };
      env.log.error(
        JSON.stringify({
          event: 'mcp_tool_failed',
          action: action.id,
          error: e?.name,
          errorCode: e?.code,
          message: e?.message?.slice(0, 300),
        }),
      );
    }
    return problemResult(problem, env.invocationId);
  }
}
