/**
 * Round trips counted: every request this process makes to Table Storage, Key Vault and Graph,
 * and every message it queues, both for the invocation that made it (the trace of
 * shared/correlation.ts) and in process totals. test/e2e/round-trips.test.ts compares an action's
 * counts with a recorded budget (test/budgets/round-trips.json), so a new storage read or Graph
 * request on an action's path is a visible decision; the totals are the inputs of a cost model.
 *
 * Names: `table:<name> <METHOD>` (`table:connections GET`, `table:audit CREATE` for a table's
 * creation), `queue:<name> POST` for a message sent (the Functions host's own dequeues are not
 * ours to count), `graph <METHOD>` per Graph request (a `$batch` is one), `keyvault <METHOD>`.
 * Each attempt counts: a retry is another billed transaction and another request against Graph's
 * limits.
 */
import { currentTrace, onTraceEnd } from './correlation';

export type RoundTrips = Record<string, number>;

const totals: RoundTrips = {};
type Listener = (
  functionName: string,
  invocationId: string,
  roundTrips: RoundTrips,
  durationMs: number,
) => void;
const listeners: Listener[] = [];

export function countRoundTrip(name: string): void {
  totals[name] = (totals[name] ?? 0) + 1;
  const trace = currentTrace();
  if (trace) {
    trace.roundTrips ??= {};
    trace.roundTrips[name] = (trace.roundTrips[name] ?? 0) + 1;
  }
}

/** What this process has counted since it started. */
export function roundTripTotals(): RoundTrips {
  return { ...totals };
}

/** Called when an invocation ends (its correlation trace), with what it counted. */
export function onInvocationRoundTrips(listener: Listener): () => void {
  listeners.push(listener);
  return () => {
    const i = listeners.indexOf(listener);
    if (i >= 0) listeners.splice(i, 1);
  };
}

onTraceEnd((trace) => {
  for (const listener of listeners)
    listener(
      trace.functionName ?? '',
      trace.invocationId,
      { ...(trace.roundTrips ?? {}) },
      trace.durationMs ?? 0,
    );
});

/** `table:<name> <METHOD>` from a Table Storage request's URL. */
export function storageTarget(url: string, method: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return `table:? ${method}`;
  }
  const parts = path.split('/').filter(Boolean);
  // Azurite puts the account first (/devstoreaccount1/table); Azure's host names carry it.
  if (parts[0] === 'devstoreaccount1') parts.shift();
  const first = decodeURIComponent(parts[0] ?? '');
  const name = first.replace(/\(.*$/, '') || '?';
  return `table:${name} ${method}`;
}

/** The part of an Azure SDK pipeline policy (@azure/core-rest-pipeline PipelinePolicy) used here. */
interface CountedRequest {
  url: string;
  method: string;
  body?: unknown;
}
export interface CountingPolicy {
  name: string;
  sendRequest<Q extends CountedRequest, R>(request: Q, next: (request: Q) => Promise<R>): Promise<R>;
}

/**
 * A policy for an Azure SDK client's `additionalPolicies`, at position `perRetry` so that every
 * attempt counts: `table:<name> <METHOD>` for Table Storage, `keyvault <METHOD>` for Key Vault.
 */
export function countingPolicy(kind: 'table' | 'keyvault'): CountingPolicy {
  return {
    name: `roundTrips-${kind}`,
    async sendRequest(request, next) {
      countRoundTrip(kind === 'table' ? tableTarget(request) : `keyvault ${request.method}`);
      return await next(request);
    },
  };
}

/** A table's creation names the table (`table:audit CREATE`); other requests as storageTarget. */
function tableTarget(request: CountedRequest): string {
  const target = storageTarget(request.url, request.method);
  if (target !== 'table:Tables POST' || typeof request.body !== 'string') return target;
  try {
    const name = (JSON.parse(request.body) as { TableName?: unknown }).TableName;
    return typeof name === 'string' ? `table:${name} CREATE` : target;
  } catch {
    return target;
  }
}
