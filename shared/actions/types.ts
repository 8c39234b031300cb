/**
 * An action is declared once: id, strict zod input, feature and scopes, kind, idempotency, and
 * either a Graph request builder plus a response mapper (batchable) or a `run()` for multi-step
 * work (paging, upload sessions, streams). From that one declaration the project serves the HTTP
 * route, runs it inside Graph `$batch`, documents it in OpenAPI and offers it as an MCP tool.
 */
import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import type { Feature } from '../config';
import type { GraphCall, GraphResponse } from '../graph/client';
import type { GraphError } from '../graph/errors';
import type { Problem } from '../http/problem';
import type { Connection } from '../storage/connections';

export type ActionKind = 'read' | 'write' | 'destructive';

/** What an action gets besides its input. */
export interface ActionContext {
  userId: string;
  connection: Connection;
  invocationId: string;
  log: Pick<InvocationContext, 'log' | 'warn' | 'error'>;
  /** The caller's IANA time zone (from the `Prefer: outlook.timezone="..."` or `X-Timezone` request header), if any. */
  timezone?: string;
  /** The HTTP request headers (read-only), e.g. Idempotency-Key. Empty inside MCP/batch where absent. */
  headers: Headers;
  /** The raw HTTP request body stream for upload actions (`input: 'stream'`), else undefined. */
  bodyStream?: ReadableStream<Uint8Array>;
  /** One Graph call through the chokepoint (auth, retry, throttling, mailbox limit). */
  graph<T = unknown>(call: GraphCall): Promise<GraphResponse<T>>;
  /** A streamed Graph call (downloads); the caller consumes or cancels the body. */
  graphRaw(call: GraphCall): Promise<Response>;
  /** Ids the action touched, for the audit log (never content). */
  targets: string[];
  /**
   * With an Idempotency-Key: a token stable for (user, action, key). Actions write it where Graph
   * keeps it (a message's internetMessageId, an event's transactionId) so `recover` can find it.
   */
  idempotencyToken?: string;
  /** How the caller can check an unknown outcome (e.g. `{ internetMessageId }`); set before the write. */
  check: Record<string, string>;
  /**
   * Guarded sends: seconds the message waits before it goes, cancellable (the send policy's undo
   * window; 0 or absent = now). Set before `run` for actions with a `guard`.
   */
  undoSeconds?: number;
}

/** What a guarded send would put in front of its recipients, for the user to confirm. */
export interface OutboundPreview {
  channel: 'mail' | 'teams';
  /** Addresses it goes to (lower case); for a Teams chat its members other than the user. */
  recipients: string[];
  /** Where a Teams message is posted, e.g. `chat 19:...` or `channel General (team ...)`. */
  destination?: string;
  /** The mailbox it is sent from when not the user's own. */
  from?: string;
  subject?: string;
  /** The start of the text (at most 500 characters). */
  text?: string;
  attachments?: string[];
}

export interface SendGuard<I> {
  preview(input: I, ctx: ActionContext): Promise<OutboundPreview>;
  /** Of `addresses`, those the sending mailbox has written to before (for the `new` trigger). */
  writtenTo?(input: I, ctx: ActionContext, addresses: string[]): Promise<Set<string>>;
  /**
   * Graph cannot defer this send (Teams): with an undo window the framework holds the call and
   * makes it when the window ends (shared/actions/held-sends.ts); the output may then be HeldSendOut.
   */
  held?: boolean;
}

/** What `recover` found of a first attempt whose outcome was unknown. */
export type Recovered<O> =
  | { status: 'done'; output: O }
  /** Verified absent: it did not take effect (safe to run again once the lease has passed). */
  | { status: 'absent' }
  /** Cannot be told (e.g. a mail sent without a copy in Sent Items). */
  | { status: 'unknown' };

/** A list page: items plus an opaque cursor for the next page (absent on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** Lets a `run()` answer with its own HTTP response (a stream, a redirect). */
export class RawResult {
  constructor(readonly response: HttpResponseInit) {}
}

interface ActionBase<S extends z.ZodType, O> {
  /** Stable id, `service.verbNoun` (e.g. `mail.sendMessage`); also the OpenAPI operationId and MCP tool name. */
  id: string;
  /** The declaring service (its folder under shared/services, the Service type there). */
  service: string;
  /** One line: what it does. */
  summary: string;
  /** For a model: what it does, when to use it, what it returns. */
  description: string;
  /** Strict zod object schema of the input. */
  input: S;
  /** Optional output schema (documentation only). */
  output?: z.ZodType<O>;
  /** The feature whose consent the action needs; 'base' = only the always-granted scopes (User.Read). */
  feature: Feature | 'base';
  /** Delegated Graph scopes the action needs (documentation; the feature decides consent). */
  scopes: string[];
  kind: ActionKind;
  /** Safe to repeat with the same input (retries of 5xx/timeouts are allowed for idempotent POSTs). */
  idempotent: boolean;
  /** HTTP status on success (default 200). */
  successStatus?: number;
  /** Honour an `Idempotency-Key` header: a repeat within 24 h returns the first result. */
  idempotencyKey?: boolean;
  /** Read-through cache for slowly changing metadata: tag and TTL seconds (defaults to CACHE_TTL_SECONDS). */
  cache?: { tag: string; ttlSeconds?: number };
  /** Cache tags this (write) action invalidates for the user. */
  invalidates?: string[];
  /** HTTP method of the action route: POST (JSON body, default) or GET (flat query input, e.g. downloads). */
  httpMethod?: 'POST' | 'GET';
  /** The request body is a raw stream (uploads); input then comes from the query string. */
  streamBody?: boolean;
  /** Largest JSON body accepted (default 1 MiB); raise it for inputs that carry base64 content. */
  maxBodyBytes?: number;
  /** Workload-specific error mapping (e.g. ErrorSendAsDenied → forbidden naming the permission); undefined = default. */
  mapError?(err: GraphError, input: z.output<S>): Problem | undefined;
  /**
   * Looks for the trace a first attempt with this Idempotency-Key left at Graph (through
   * `ctx.idempotencyToken`). Without it, an unknown outcome stays unknown and is reported so.
   */
  recover?(input: z.output<S>, ctx: ActionContext): Promise<Recovered<O>>;
  /** In words, how a caller checks an unknown outcome of this action (e.g. "look in Sent Items"). */
  outcomeCheck?: string;
  /**
   * Sends a message on the user's behalf: the send policy (shared/actions/guard.ts) previews it
   * and may ask for confirmation, refuse a recipient domain or delay it for an undo window.
   */
  guard?: SendGuard<z.output<S>>;
  /** Extra feature checks on the input (e.g. a `mailbox` input needs 'mail-shared'); throw a Problem to refuse. */
  requires?(input: z.output<S>): Feature[];
}

export interface GraphAction<S extends z.ZodType, O> extends ActionBase<S, O> {
  toGraph(input: z.output<S>, ctx: ActionContext): GraphCall;
  fromGraph(response: GraphResponse<unknown>, input: z.output<S>, ctx: ActionContext): O;
  run?: never;
}

export interface RunAction<S extends z.ZodType, O> extends ActionBase<S, O> {
  run(input: z.output<S>, ctx: ActionContext): Promise<O | RawResult>;
  toGraph?: never;
  fromGraph?: never;
}

export type Action<S extends z.ZodType = z.ZodType, O = unknown> = GraphAction<S, O> | RunAction<S, O>;

export function isBatchable(action: Action): action is GraphAction<z.ZodType, unknown> {
  return typeof action.toGraph === 'function' && !action.streamBody && !action.idempotencyKey;
}
