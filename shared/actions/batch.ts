/**
 * POST /api/batch: up to 100 actions run as Graph JSON `$batch` calls of at most 20 requests
 * (reference §3). A dependsOn chain stays inside one call; calls run one after another for the
 * user's mailbox (Outlook runs at most 4 requests of a batch at once, §2.3). Items Graph throttled
 * inside a batch (per-item 429, never retried by the SDK, §2.4) are retried alone after their
 * Retry-After, through the chokepoint. Actions that cannot be batched (multi-step `run()`,
 * Idempotency-Key) run directly. Results come back in request order, each with its status and
 * either the output or a problem.
 */
import { checkOutput } from './output';
import type { InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { oboConnection } from '../auth/obo';
import { ensureFeature, loadAccountConnection, reauthProblem } from '../auth/token-vault';
import type { Feature } from '../config';
import { graphRequest, type GraphCall } from '../graph/client';
import { graphErrorFrom, parseRetryAfter } from '../graph/errors';
import { Problem, problemBody, type ProblemBody } from '../http/problem';
import { fieldErrors } from '../http/validate';
import { actionContext, actionProblem, auditOutcome, executeAction, type ExecuteEnv } from './execute';
import { getAction } from './registry';
import { isBatchable, RawResult, type Action } from './types';

export const MAX_BATCH_ITEMS = 100;
export const GRAPH_BATCH_LIMIT = 20;

export const BatchBody = z
  .object({
    items: z
      .array(
        z
          .object({
            id: z
              .string()
              .min(1)
              .max(64)
              .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _.:- only'),
            action: z.string().min(3).max(64),
            input: z.record(z.string(), z.unknown()).default({}),
            dependsOn: z.array(z.string().min(1).max(64)).max(20).optional(),
            /** This item acts as another of the user's accounts (email or id) than the batch. */
            account: z.string().min(1).max(320).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_BATCH_ITEMS),
    /** Which of the user's Microsoft accounts the whole batch acts as (email or id; the default when absent). */
    account: z.string().min(1).max(320).optional(),
  })
  .strict();

export type BatchItem = z.output<typeof BatchBody>['items'][number];

export interface BatchResult {
  id: string;
  action: string;
  status: number;
  output?: unknown;
  problem?: ProblemBody;
}

export interface BatchStats {
  graphBatchCalls: number;
  directCalls: number;
  retriedAlone: number;
}

function problemResult(item: BatchItem, problem: Problem): BatchResult {
  return { id: item.id, action: item.action, status: problem.status, problem: problemBody(problem) };
}

/** Validates the shape across items: unique ids (case-insensitive, like Graph), known dependencies, no cycles. */
export function validateBatch(items: BatchItem[]): void {
  const ids = new Map<string, BatchItem>();
  const errors: Array<{ field: string; message: string }> = [];
  items.forEach((item, i) => {
    const key = item.id.toLowerCase();
    if (ids.has(key))
      errors.push({
        field: `items.${i}.id`,
        message: `duplicates id "${item.id}" (ids are case-insensitive)`,
      });
    ids.set(key, item);
  });
  items.forEach((item, i) => {
    for (const dep of item.dependsOn ?? []) {
      if (!ids.has(dep.toLowerCase()))
        errors.push({ field: `items.${i}.dependsOn`, message: `refers to unknown id "${dep}"` });
      if (dep.toLowerCase() === item.id.toLowerCase())
        errors.push({ field: `items.${i}.dependsOn`, message: 'depends on itself' });
    }
  });
  if (errors.length === 0) {
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (id: string): boolean => {
      const s = state.get(id);
      if (s === 'done') return false;
      if (s === 'visiting') return true;
      state.set(id, 'visiting');
      const cyclic = (ids.get(id)?.dependsOn ?? []).some((d) => visit(d.toLowerCase()));
      state.set(id, 'done');
      return cyclic;
    };
    if ([...ids.keys()].some((id) => visit(id)))
      errors.push({ field: 'items', message: 'dependsOn forms a cycle' });
  }
  // An item of another account runs on its own, outside the batch's Graph $batch calls: it can
  // neither wait for nor be waited on by the others.
  items.forEach((item, i) => {
    if (!item.account) return;
    if (item.dependsOn?.length)
      errors.push({
        field: `items.${i}.dependsOn`,
        message: 'an item with its own account cannot depend on others',
      });
    if (items.some((other) => other.dependsOn?.some((d) => d.toLowerCase() === item.id.toLowerCase())))
      errors.push({
        field: `items.${i}.account`,
        message: 'an item others depend on acts as the batch’s account',
      });
  });
  if (errors.length > 0) throw new Problem('invalid_input', 'The batch is not valid.', { errors });
}

/** Connected components of the dependsOn graph, each in an order that respects dependencies. */
function chains(items: BatchItem[]): BatchItem[][] {
  const byId = new Map(items.map((i) => [i.id.toLowerCase(), i]));
  const parent = new Map(items.map((i) => [i.id.toLowerCase(), i.id.toLowerCase()]));
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    return r;
  };
  for (const item of items)
    for (const dep of item.dependsOn ?? []) parent.set(find(dep.toLowerCase()), find(item.id.toLowerCase()));
  const groups = new Map<string, BatchItem[]>();
  for (const item of items) {
    const root = find(item.id.toLowerCase());
    groups.set(root, [...(groups.get(root) ?? []), item]);
  }
  // Topological order inside each group (request order among equals).
  return [...groups.values()].map((group) => {
    const out: BatchItem[] = [];
    const seen = new Set<string>();
    const add = (item: BatchItem) => {
      const key = item.id.toLowerCase();
      if (seen.has(key)) return;
      seen.add(key);
      for (const dep of item.dependsOn ?? []) add(byId.get(dep.toLowerCase())!);
      out.push(item);
    };
    group.forEach(add);
    return out;
  });
}

function relativeUrl(call: GraphCall): string {
  const path = call.url.startsWith('/') ? call.url : `/${call.url}`;
  const q = Object.entries(call.query ?? {}).filter(([, v]) => v !== undefined);
  if (q.length === 0) return path;
  return `${path}${path.includes('?') ? '&' : '?'}${q.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&')}`;
}

function unknownAction(item: BatchItem): BatchResult {
  return problemResult(item, new Problem('not_found', `Unknown action "${item.action.slice(0, 64)}".`));
}

interface Prepared {
  item: BatchItem;
  action: Action;
  input: unknown;
  call?: GraphCall;
}

/** The features the valid items of a batch need. */
function featuresOf(items: BatchItem[]): Feature[] {
  const out = new Set<Feature>();
  for (const item of items) {
    const action = getAction(item.action);
    const parsed = action?.input.safeParse(item.input);
    if (!action || !parsed?.success) continue;
    if (action.feature !== 'base') out.add(action.feature);
    for (const f of action.requires?.(parsed.data) ?? []) out.add(f);
  }
  return [...out];
}

export async function runBatch(
  items: BatchItem[],
  env: ExecuteEnv,
): Promise<{ results: BatchResult[]; stats: BatchStats }> {
  validateBatch(items);
  const stats: BatchStats = { graphBatchCalls: 0, directCalls: 0, retriedAlone: 0 };
  const results = new Map<string, BatchResult>();
  // Items naming another account than the batch's run one by one as that account.
  const all = items;
  const elsewhere = items.filter((i) => i.account !== undefined && i.account !== env.account);
  if (elsewhere.length > 0) {
    for (const item of elsewhere) {
      const action = getAction(item.action);
      if (!action) {
        results.set(item.id, unknownAction(item));
        continue;
      }
      await runDirect(
        { item, action, input: item.input },
        { ...env, account: item.account! },
        results,
        stats,
      );
    }
    items = items.filter((i) => !elsewhere.includes(i));
    if (items.length === 0) return { results: all.map((i) => results.get(i.id)!), stats };
  }
  // An Entra caller's grant covers what every item needs (on-behalf-of, shared/auth/obo.ts).
  const connection = env.assertion
    ? await oboConnection(env.userId, env.assertion, featuresOf(items))
    : await loadAccountConnection(env.userId, env.account);
  // The batch acts as one account (the default, or the one `account` names): its principal.
  env = { ...env, userId: connection.userId };
  if (connection.status === 'reauth_required') throw await reauthProblem(connection);

  const prepared = new Map<string, Prepared>();
  for (const item of items) {
    const action = getAction(item.action);
    if (!action) {
      results.set(item.id, unknownAction(item));
      continue;
    }
    const parsed = action.input.safeParse(item.input);
    if (!parsed.success) {
      const errors = fieldErrors(parsed.error, action.input, item.input).map((e) => ({
        ...e,
        field: `input.${e.field}`,
      }));
      results.set(
        item.id,
        problemResult(
          item,
          new Problem('invalid_input', `Fix these fields: ${errors.map((e) => e.field).join(', ')}.`, {
            errors,
          }),
        ),
      );
      continue;
    }
    try {
      if (action.feature !== 'base') await ensureFeature(connection, action.feature);
      for (const f of action.requires?.(parsed.data) ?? []) await ensureFeature(connection, f);
    } catch (err) {
      results.set(item.id, problemResult(item, err as Problem));
      continue;
    }
    prepared.set(item.id, { item, action, input: parsed.data });
  }

  const failedDependency = (item: BatchItem): boolean =>
    (item.dependsOn ?? []).some((d) => {
      const r = [...results.values()].find((x) => x.id.toLowerCase() === d.toLowerCase());
      return r !== undefined && r.status >= 400;
    });
  const markFailedDependency = (item: BatchItem) =>
    results.set(item.id, {
      id: item.id,
      action: item.action,
      status: 424,
      problem: problemBody(
        new Problem('conflict', 'A request this one depends on failed, so it was not run.', {}, {}, 424),
      ),
    });

  // Decide per chain: Graph $batch when every member is batchable and the chain fits, else direct.
  const graphChains: Prepared[][] = [];
  const directChains: Prepared[][] = [];
  for (const chain of chains(items)) {
    const members = chain.map((i) => prepared.get(i.id));
    if (members.some((m) => m === undefined)) {
      // Some member failed validation: run what can run, in order, honouring failed dependencies.
      directChains.push(members.filter((m): m is Prepared => m !== undefined));
      continue;
    }
    const ok = members as Prepared[];
    if (ok.every((m) => isBatchable(m.action)) && ok.length <= GRAPH_BATCH_LIMIT) graphChains.push(ok);
    else directChains.push(ok);
  }

  // Pack chains into $batch calls of at most 20 requests (first fit, chains never split).
  const calls: Prepared[][] = [];
  for (const chain of graphChains.sort((a, b) => b.length - a.length)) {
    const target = calls.find((c) => c.length + chain.length <= GRAPH_BATCH_LIMIT);
    if (target) target.push(...chain);
    else calls.push([...chain]);
  }

  const requestIds: string[] = [];
  const opts = { log: env.log, requestIds, connection };
  const throttled: Array<{ p: Prepared; retryAfterMs: number }> = [];

  for (const call of calls) {
    const started = Date.now();
    const requests = call.map((p) => {
      const ctx = actionContext(p.action, env, connection, requestIds);
      p.call = (p.action as { toGraph: (i: unknown, c: unknown) => GraphCall }).toGraph(p.input, ctx);
      const prefer = [
        'IdType="ImmutableId"',
        ...(p.call.timezone ? [`outlook.timezone="${p.call.timezone}"`] : []),
      ];
      const headers: Record<string, string> = { Prefer: prefer.join(', '), ...(p.call.headers ?? {}) };
      if (p.call.body !== undefined) headers['Content-Type'] ??= 'application/json';
      return {
        id: p.item.id,
        method: p.call.method,
        url: relativeUrl(p.call),
        headers,
        ...(p.call.body !== undefined ? { body: p.call.body } : {}),
        ...(p.item.dependsOn?.length ? { dependsOn: p.item.dependsOn } : {}),
      };
    });
    stats.graphBatchCalls++;
    let responses: Array<{ id: string; status: number; headers?: Record<string, string>; body?: unknown }>;
    try {
      const res = await graphRequest<{ responses: typeof responses }>(
        env.userId,
        {
          method: 'POST',
          url: '/$batch',
          body: { requests },
          idempotent: call.every((p) => p.action.idempotent),
        },
        opts,
      );
      responses = res.body.responses ?? [];
    } catch (err) {
      for (const p of call) {
        const problem = actionProblem(p.action, p.input, err);
        results.set(p.item.id, problemResult(p.item, problem));
      }
      continue;
    }
    const byId = new Map(responses.map((r) => [r.id.toLowerCase(), r]));
    for (const p of call) {
      const r = byId.get(p.item.id.toLowerCase());
      const headers = new Headers(r?.headers ?? {});
      if (!r) {
        results.set(
          p.item.id,
          problemResult(
            p.item,
            new Problem('upstream_error', 'Microsoft Graph did not answer this item of the batch.'),
          ),
        );
      } else if (r.status === 429) {
        throttled.push({ p, retryAfterMs: parseRetryAfter(headers.get('retry-after')) ?? 1000 });
      } else if (r.status === 424) {
        // Failed only because a dependency was throttled: it goes again, alone, after that one.
        const deps = (p.item.dependsOn ?? []).map((d) => d.toLowerCase());
        const waiting = throttled.find((t) => deps.includes(t.p.item.id.toLowerCase()));
        if (waiting) throttled.push({ p, retryAfterMs: waiting.retryAfterMs });
        else markFailedDependency(p.item);
      } else if (r.status >= 400) {
        const problem = actionProblem(
          p.action,
          p.input,
          graphErrorFrom(r.status, headers, r.body, parseRetryAfter(headers.get('retry-after'))),
        );
        results.set(p.item.id, problemResult(p.item, problem));
        await auditOutcome(p.action, env, [], problem.status, problem.code, requestIds, started).catch(
          () => undefined,
        );
      } else {
        const ctx = actionContext(p.action, env, connection, requestIds);
        const output = (p.action as { fromGraph: (r: unknown, i: unknown, c: unknown) => unknown }).fromGraph(
          { status: r.status, headers, body: r.body },
          p.input,
          ctx,
        );
        checkOutput(p.action, output);
        results.set(p.item.id, {
          id: p.item.id,
          action: p.item.action,
          status: p.action.successStatus ?? 200,
          output,
        });
        await auditOutcome(p.action, env, ctx.targets, r.status, undefined, requestIds, started);
      }
    }
  }

  // Items throttled inside a batch: wait for the longest Retry-After, then each goes alone
  // through the chokepoint (which keeps honouring Retry-After).
  if (throttled.length > 0) {
    const wait = Math.max(...throttled.map((t) => t.retryAfterMs));
    await new Promise((r) => setTimeout(r, wait));
    for (const { p } of throttled) {
      if (failedDependency(p.item)) {
        markFailedDependency(p.item);
        continue;
      }
      stats.retriedAlone++;
      await runDirect(p, { ...env, connection }, results, stats);
    }
  }

  for (const chain of directChains) {
    for (const p of chain) {
      if (failedDependency(p.item)) {
        markFailedDependency(p.item);
        continue;
      }
      await runDirect(p, { ...env, connection }, results, stats);
    }
  }

  const ordered = all.map((item) => {
    const r = results.get(item.id);
    if (r) return r;
    return failedDependency(item)
      ? { id: item.id, action: item.action, status: 424 }
      : {
          id: item.id,
          action: item.action,
          status: 500,
          problem: problemBody(new Problem('internal_error', 'The item was not run.')),
        };
  });
  return { results: ordered, stats };
}

async function runDirect(
  p: Prepared,
  env: ExecuteEnv,
  results: Map<string, BatchResult>,
  stats: BatchStats,
): Promise<void> {
  stats.directCalls++;
  try {
    const outcome = await executeAction(p.action, p.item.input, env);
    if (outcome.kind === 'raw' || (outcome as { result?: unknown }).result instanceof RawResult) {
      results.set(
        p.item.id,
        problemResult(
          p.item,
          new Problem('invalid_input', `${p.action.id} streams its answer and cannot run inside a batch.`),
        ),
      );
      return;
    }
    results.set(p.item.id, {
      id: p.item.id,
      action: p.item.action,
      status: outcome.status,
      output: outcome.body,
    });
  } catch (err) {
    results.set(
      p.item.id,
      problemResult(p.item, err instanceof Problem ? err : actionProblem(p.action, p.input, err)),
    );
  }
}

export type { InvocationContext };
