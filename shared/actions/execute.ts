/**
 * Runs one action for one user: validate the input (strict, every bad field named), check the
 * connection and the feature, honour Idempotency-Key and the read cache, run through the Graph
 * chokepoint, map errors to problems, and write one audit entry (ids, outcome, Graph request ids,
 * duration; never content). The HTTP route, `/api/batch` and the MCP endpoint all come here.
 */
import type { InvocationContext } from '@azure/functions';
import { audit } from '../audit';
import { oboConnection } from '../auth/obo';
import { grantedFeatures } from '../auth/scopes';
import type { Feature } from '../config';
import {
  ensureFeature,
  loadAccountConnection,
  readAheadConnection,
  recentConnection,
  reauthProblem,
} from '../auth/token-vault';
import { getConfig } from '../config';
import { graphRaw, graphRequest, type GraphCall, type GraphResponse } from '../graph/client';
import type { Connection } from '../storage/connections';
import { GraphError } from '../graph/errors';
import { graphProblem } from '../graph/problems';
import { toProblem } from '../http/handler';
import { Problem } from '../http/problem';
import { fieldErrors, invalidInput } from '../http/validate';
import { cacheGet, cacheSet, invalidate } from './cache';
import {
  claim,
  complete,
  fieldHashes,
  idempotencyToken,
  markUnknown,
  PENDING_LEASE_MS,
  release,
  requestHash,
} from './idempotency';
import { enforceSendPolicy, type Confirmation } from './guard';
import { holdSend } from './held-sends';
import { checkOutput } from './output';
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
  /** A guarded send's confirmation (HTTP Confirmation-Token header; MCP confirm + confirmationToken). */
  confirmation?: Confirmation;
  /** A held send being released (functions/sends/held.ts): the send policy applied when it was held. */
  release?: boolean;
  /** The caller's Entra access token for this API (shared/auth/obo.ts). */
  assertion?: string;
  /** Which of the user's Microsoft accounts (email or id; the default when absent, shared/storage/accounts.ts). */
  account?: string;
  /**
   * The connection this request has already read (a batch's items run alone): used as it is, so
   * a batch reads the row once whatever its items need.
   */
  connection?: Connection;
}

export type ActionOutcome =
  { kind: 'json'; status: number; body: unknown } | { kind: 'raw'; result: RawResult };

/** Validates input against the action's strict schema: 400 invalid_input naming every bad field. */
export function parseInput(action: Action, raw: unknown): unknown {
  const parsed = action.input.safeParse(raw);
  if (!parsed.success) throw invalidInput(fieldErrors(parsed.error, action.input, raw));
  return parsed.data;
}

export function actionContext(
  action: Action,
  env: ExecuteEnv,
  connection: ActionContext['connection'],
  requestIds: string[],
  writes: { count: number } = { count: 0 },
): ActionContext {
  const opts = { log: env.log, requestIds, connection };
  const counted = async <T>(call: GraphCall, result: Promise<T>): Promise<T> => {
    const value = await result;
    if (call.method !== 'GET') writes.count++;
    return value;
  };
  return {
    userId: env.userId,
    connection,
    invocationId: env.invocationId,
    log: env.log,
    ...(env.timezone ? { timezone: env.timezone } : {}),
    headers: env.headers ?? new Headers(),
    ...(env.bodyStream ? { bodyStream: env.bodyStream } : {}),
    graph: async <T>(call: GraphCall) =>
      await counted(call, graphRequest<T>(env.userId, { idempotent: action.idempotent, ...call }, opts)),
    graphRaw: async (call: GraphCall) =>
      await counted(call, graphRaw(env.userId, { idempotent: action.idempotent, ...call }, opts)),
    targets: [],
    check: {},
  };
}

/** Maps any failure of an action to the problem the caller sees. */
export function actionProblem(action: Action, input: unknown, err: unknown): Problem {
  if (err instanceof GraphError)
    return action.mapError?.(err, input) ?? graphProblem(err, { idempotent: action.idempotent });
  return toProblem(err);
}

/**
 * The problem for a change that may or may not have happened: never "nothing was changed". It says
 * how to check (`check`, e.g. the internetMessageId to look for) and, when the action can find its
 * own trace, that repeating with the same Idempotency-Key after `retryAfter` settles it.
 */
function outcomeUnknown(
  action: Action,
  ctx: ActionContext | undefined,
  cause: Problem | undefined,
  retryAfterS?: number,
): Problem {
  const how = action.outcomeCheck ?? 'Check whether it took effect';
  const detail =
    retryAfterS !== undefined
      ? `The outcome of this ${action.id} is unknown: it may or may not have taken effect. Repeat it with the same Idempotency-Key after ${retryAfterS} s and it will be checked for you (never done twice); or: ${how}.`
      : `The outcome of this ${action.id} is unknown: it may or may not have taken effect. ${how} before trying again with a new Idempotency-Key.`;
  const { outcomeUnknown: _u, retryAfter: _r, ...rest } = cause?.extensions ?? {};
  return new Problem(
    'outcome_unknown',
    detail,
    {
      ...rest,
      outcomeUnknown: true,
      ...(ctx && Object.keys(ctx.check).length ? { check: ctx.check } : {}),
      ...(retryAfterS !== undefined ? { retryAfter: retryAfterS } : {}),
    },
    retryAfterS !== undefined ? { 'retry-after': String(retryAfterS) } : {},
  );
}

/**
 * A first attempt's outcome is unknown (Graph failed mid-way, or its worker died): find its trace.
 * Returns the output when it took effect, undefined when it verifiably did not and may run again.
 */
async function resolveUnknown(
  action: Action,
  input: unknown,
  ctx: ActionContext,
  ageMs: number,
): Promise<{ output: unknown } | undefined> {
  const recovered = action.recover ? await action.recover(input, ctx) : { status: 'unknown' as const };
  if (recovered.status === 'done') return { output: recovered.output };
  if (recovered.status === 'absent' && ageMs >= PENDING_LEASE_MS) return undefined;
  throw outcomeUnknown(
    action,
    ctx,
    undefined,
    recovered.status === 'absent' ? Math.ceil((PENDING_LEASE_MS - ageMs) / 1000) : undefined,
  );
}

export async function executeAction(
  action: Action,
  rawInput: unknown,
  env: ExecuteEnv,
): Promise<ActionOutcome> {
  const started = Date.now();
  const requestIds: string[] = [];
  const writes = { count: 0 };
  let input: unknown;
  let ctx: ActionContext | undefined;
  let claimed: { key: string; hash: string; fields: Record<string, string>; resolving: boolean } | undefined;
  let produced: { output: unknown } | undefined;
  try {
    input = parseInput(action, rawInput);
    const needed: Feature[] = [
      ...(action.feature === 'base' ? [] : [action.feature]),
      ...(action.requires?.(input) ?? []),
    ];
    const early =
      env.connection || env.assertion || env.account !== undefined
        ? undefined
        : readAhead(action, input, env);
    // A read whose row this instance read moments ago is answered from it (recentConnection).
    const recent = early
      ? recentConnection(env.userId, getConfig().CONNECTION_RECHECK_SECONDS * 1000)
      : undefined;
    // An Entra caller's Graph access comes from its own token (on-behalf-of), not the connect flow.
    const reading = env.connection
      ? Promise.resolve(env.connection)
      : recent && early?.ctx.connection === recent
        ? Promise.resolve(recent)
        : env.assertion
          ? oboConnection(env.userId, env.assertion, needed)
          : loadAccountConnection(env.userId, env.account);
    const connection = await reading;
    // From here on the user is the account's principal (its tokens, idempotency, caches); the
    // feed and the audit log still land with the user, naming the account.
    env = { ...env, userId: connection.userId };
    if (connection.status === 'reauth_required') throw await reauthProblem(connection);
    if (action.feature !== 'base') await ensureFeature(connection, action.feature);
    for (const feature of action.requires?.(input) ?? []) await ensureFeature(connection, feature);
    if (
      early &&
      early.ctx.connection.userId === connection.userId &&
      early.ctx.connection.etag === connection.etag
    ) {
      // The row is unchanged since the call started: its answer stands (see readAhead).
      ctx = early.ctx;
      const response = await early.response;
      requestIds.push(...early.requestIds);
      produced = { output: action.fromGraph!(response, input, ctx) };
    }
    ctx ??= actionContext(action, env, connection, requestIds, writes);

    const key = action.idempotencyKey ? (env.headers?.get('idempotency-key') ?? undefined) : undefined;
    if (key) {
      const fields = fieldHashes(input);
      const hash = requestHash(action.id, fields);
      const claim_ = await claim(env.userId, action.id, key, hash, fields);
      if (claim_.kind === 'replay') {
        await auditOutcome(action, env, ctx.targets, claim_.result.status, undefined, requestIds, started);
        return { kind: 'json', status: claim_.result.status, body: claim_.result.body };
      }
      ctx.idempotencyToken = idempotencyToken(env.userId, action.id, key);
      claimed = { key, hash, fields, resolving: claim_.kind === 'resolve' };
      if (claim_.kind === 'resolve') produced = await resolveUnknown(action, input, ctx, claim_.ageMs);
    }

    // A send whose first attempt is being resolved was confirmed then; never ask again.
    if (!produced && action.guard && !claimed?.resolving && !env.release)
      await enforceSendPolicy(action, input, ctx, env.confirmation);
    if (!produced && action.guard?.held && ctx.undoSeconds && !env.release)
      produced = { output: await holdSend(action, input, ctx) };

    if (!produced && action.cache && !env.noCache) {
      const hit = cacheGet(cacheOwner(env, ctx), action.id, input);
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

    if (!produced) {
      if (action.run) produced = { output: await action.run(input, ctx) };
      else {
        const response = await ctx.graph(action.toGraph(input as never, ctx));
        produced = { output: action.fromGraph(response, input, ctx) };
      }
    }
  } catch (err) {
    let problem = actionProblem(action, input, err);
    // Once Graph accepted a write, a later failure (storage, a crash of our own) cannot say
    // "nothing was changed": the outcome is unknown.
    if (
      (problem.extensions.outcomeUnknown === true && problem.code !== 'outcome_unknown') ||
      // (A Problem the action raised itself knows the state and says so.)
      (writes.count > 0 && !(err instanceof GraphError) && !(err instanceof Problem))
    ) {
      problem = outcomeUnknown(action, ctx, problem);
    }
    // The key stays claimed when the outcome is unknown (a resend could double-send); otherwise free it.
    if (claimed) {
      if (problem.code === 'outcome_unknown' || claimed.resolving || writes.count > 0)
        await markUnknown(env.userId, action.id, claimed.key).catch(() => undefined);
      else await release(env.userId, action.id, claimed.key).catch(() => undefined);
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

  // It happened: from here on, bookkeeping that fails is logged, never reported as a failure.
  const output = produced.output;
  if (!(output instanceof RawResult)) checkOutput(action, output);
  const status = action.successStatus ?? 200;
  if (action.invalidates?.length) invalidate(env.userId, action.invalidates);
  if (action.cache && !(output instanceof RawResult)) {
    cacheSet(
      cacheOwner(env, ctx),
      action.id,
      input,
      action.cache.tag,
      output,
      action.cache.ttlSeconds ?? getConfig().CACHE_TTL_SECONDS,
    );
  }
  // The idempotency record and the audit entry are independent writes: made together, they cost
  // the caller one storage round trip instead of two. Both finish before the answer goes out.
  await Promise.all([
    claimed && !(output instanceof RawResult)
      ? complete(
          env.userId,
          action.id,
          claimed.key,
          claimed.hash,
          { status, body: output },
          claimed.fields,
        ).catch((err: unknown) => bookkeepingFailed(env, 'idempotency', err))
      : undefined,
    auditOutcome(action, env, ctx.targets, status, undefined, requestIds, started).catch((err: unknown) =>
      bookkeepingFailed(env, 'audit', err),
    ),
  ]);
  return output instanceof RawResult
    ? { kind: 'raw', result: output }
    : { kind: 'json', status, body: output };
}

/**
 * Starts a read-only action's Graph call before the request's read of the connection row returns,
 * when this instance holds a token from the row it read last (token-vault readAheadConnection).
 * The answer is used only if the request's read finds that same row (same ETag) and it passes the
 * status and feature checks; otherwise it is dropped and the action runs from the row just read.
 * So a disconnect, reauth or scope change anywhere still takes effect at the next request, and the
 * connection read costs no time on the path. Writes never start early: nothing may change at
 * Microsoft for a user whose row has not been read by this request.
 */
function readAhead(
  action: Action,
  input: unknown,
  env: ExecuteEnv,
): { ctx: ActionContext; requestIds: string[]; response: Promise<GraphResponse> } | undefined {
  if (action.kind !== 'read' || !action.toGraph || action.guard || env.release || env.bodyStream) return;
  const row = readAheadConnection(env.userId);
  if (!row) return;
  try {
    const granted = grantedFeatures(row.scopes.split(' '));
    const needed = [
      ...(action.feature === 'base' ? [] : [action.feature]),
      ...(action.requires?.(input) ?? []),
    ];
    if (!needed.every((f) => granted.includes(f))) return;
    const requestIds: string[] = [];
    const ctx = actionContext(action, env, row, requestIds);
    if (action.cache && !env.noCache && cacheGet(cacheOwner(env, ctx), action.id, input) !== undefined)
      return;
    const call = action.toGraph(input, ctx);
    if (call.method !== 'GET') return;
    const response = ctx.graph(call);
    response.catch(() => undefined); // dropped when the row changed; awaited (and thrown) otherwise
    return { ctx, requestIds, response };
  } catch {
    return; // the ordinary path meets the same input and reports it
  }
}

function cacheOwner(env: ExecuteEnv, ctx: ActionContext) {
  return { userId: env.userId, account: ctx.connection.homeAccountId };
}

function bookkeepingFailed(env: ExecuteEnv, what: string, err: unknown): void {
  const e = err as { name?: string; code?: string; statusCode?: number };
  env.log.warn(
    JSON.stringify({
      event: 'bookkeeping_failed_after_success',
      what,
      error: e?.name,
      errorCode: e?.code,
      statusCode: e?.statusCode,
    }),
  );
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
