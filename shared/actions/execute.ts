/**
 * Runs one action for one user: validate the input (strict, every bad field named), check the
 * connection and the feature, honour Idempotency-Key and the read cache, run through the Graph
 * chokepoint, map errors to problems, and write one audit entry (ids, outcome, Graph request ids,
 * duration; never content). The HTTP route, `/api/batch` and the MCP endpoint all come here.
 */
import type { InvocationContext } from '@azure/functions';
import { audit } from '../audit';
import { ensureFeature, loadConnection, reauthProblem } from '../auth/token-vault';
import { getConfig } from '../config';
import { graphRaw, graphRequest, type GraphCall } from '../graph/client';
import { GraphError } from '../graph/errors';
import { graphProblem } from '../graph/problems';
import { toProblem } from '../http/handler';
import { Problem } from '../http/problem';
import { fieldErrors, invalidInput } from '../http/validate';
import { cacheGet, cacheSet, invalidate } from './cache';
import { claim, complete, markUnknown, release } from './idempotency';
import { RawResult, type Action, type ActionContext } from './types';

export interface ExecuteEnv {
  userId: string;
  invocationId: string;
  log: Pick<InvocationContext, 'log' | 'warn' | 'error'>;
  headers?: Headers;
  bodyStream?: ReadableStream<Uint8Array>;
  /** `Cache-Control: no-cache` from the caller bypasses the read cache. */
  noCache?: boolean;
  timezone?: string;
}

export type ActionOutcome =
  { kind: 'json'; status: number; body: unknown } | { kind: 'raw'; result: RawResult };

/** Validates input against the action's strict schema: 400 invalid_input naming every bad field. */
export function parseInput(action: Action, raw: unknown): unknown {
  const parsed = action.input.safeParse(raw);
  if (!parsed.success) throw invalidInput(fieldErrors(parsed.error));
  return parsed.data;
}

export function actionContext(
  action: Action,
  env: ExecuteEnv,
  connection: ActionContext['connection'],
  requestIds: string[],
): ActionContext {
  const opts = { log: env.log, requestIds };
  return {
    userId: env.userId,
    connection,
    invocationId: env.invocationId,
    log: env.log,
    ...(env.timezone ? { timezone: env.timezone } : {}),
    headers: env.headers ?? new Headers(),
    ...(env.bodyStream ? { bodyStream: env.bodyStream } : {}),
    graph: async <T>(call: GraphCall) =>
      await graphRequest<T>(env.userId, { idempotent: action.idempotent, ...call }, opts),
    graphRaw: async (call: GraphCall) =>
      await graphRaw(env.userId, { idempotent: action.idempotent, ...call }, opts),
    targets: [],
  };
}

/** Maps any failure of an action to the problem the caller sees. */
export function actionProblem(action: Action, input: unknown, err: unknown): Problem {
  if (err instanceof GraphError)
    return action.mapError?.(err, input) ?? graphProblem(err, { idempotent: action.idempotent });
  return toProblem(err);
}

export async function executeAction(
  action: Action,
  rawInput: unknown,
  env: ExecuteEnv,
): Promise<ActionOutcome> {
  const started = Date.now();
  const requestIds: string[] = [];
  let input: unknown;
  let ctx: ActionContext | undefined;
  let claimedKey: string | undefined;
  try {
    input = parseInput(action, rawInput);
    const connection = await loadConnection(env.userId);
    if (connection.status === 'reauth_required') throw await reauthProblem(connection);
    if (action.feature !== 'base') await ensureFeature(connection, action.feature);
    for (const feature of action.requires?.(input) ?? []) await ensureFeature(connection, feature);
    ctx = actionContext(action, env, connection, requestIds);

    const key = action.idempotencyKey ? (env.headers?.get('idempotency-key') ?? undefined) : undefined;
    if (key) {
      const claimed = await claim(env.userId, action.id, key);
      if (!claimed.claimed) {
        await auditOutcome(action, env, ctx.targets, claimed.result.status, undefined, requestIds, started);
        return { kind: 'json', status: claimed.result.status, body: claimed.result.body };
      }
      claimedKey = key;
    }

    if (action.cache && !env.noCache) {
      const hit = cacheGet(env.userId, action.id, input);
      if (hit !== undefined) {
        await auditOutcome(
          action,
          env,
          ctx.targets,
          action.successStatus ?? 200,
          undefined,
          requestIds,
          started,
        );
        return { kind: 'json', status: action.successStatus ?? 200, body: hit };
      }
    }

    let output: unknown;
    if (action.run) output = await action.run(input, ctx);
    else {
      const response = await ctx.graph(action.toGraph(input as never, ctx));
      output = action.fromGraph(response, input, ctx);
    }
    const status = action.successStatus ?? 200;
    if (action.invalidates?.length) invalidate(env.userId, action.invalidates);
    if (action.cache && !(output instanceof RawResult)) {
      cacheSet(
        env.userId,
        action.id,
        input,
        action.cache.tag,
        output,
        action.cache.ttlSeconds ?? getConfig().CACHE_TTL_SECONDS,
      );
    }
    if (claimedKey && !(output instanceof RawResult))
      await complete(env.userId, action.id, claimedKey, { status, body: output });
    await auditOutcome(action, env, ctx.targets, status, undefined, requestIds, started);
    return output instanceof RawResult
      ? { kind: 'raw', result: output }
      : { kind: 'json', status, body: output };
  } catch (err) {
    const problem = actionProblem(action, input, err);
    // The key stays claimed when the outcome is unknown (a resend could double-send); otherwise free it.
    if (claimedKey) {
      if (problem.extensions.outcomeUnknown)
        await markUnknown(env.userId, action.id, claimedKey).catch(() => undefined);
      else await release(env.userId, action.id, claimedKey).catch(() => undefined);
    }
    if (problem.code !== 'invalid_input' && problem.code !== 'unauthenticated') {
      await auditOutcome(
        action,
        env,
        ctx?.targets ?? [],
        problem.status,
        problem.code,
        requestIds,
        started,
      ).catch(() => undefined);
    }
    throw problem;
  }
}

export async function auditOutcome(
  action: Action,
  env: ExecuteEnv,
  targets: string[],
  status: number,
  code: string | undefined,
  requestIds: string[],
  started: number,
): Promise<void> {
  await audit(
    {
      userId: env.userId,
      action: action.id,
      targetIds: targets,
      outcome: status < 400 ? 'success' : 'failure',
      status,
      ...(code ? { code } : {}),
      graphRequestIds: requestIds,
      durationMs: Date.now() - started,
      invocationId: env.invocationId,
    },
    env.log as InvocationContext,
  );
}
