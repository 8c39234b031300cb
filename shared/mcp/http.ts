/**
 * `/api/mcp`: the Model Context Protocol over streamable HTTP, for an MCP client holding an access
 * token of this app's authorization server (shared/mcp/oauth) or for the platform with its caller
 * JWT (the user is its `sub`); a request with neither gets the RFC 9728 401 challenge.
 * - POST: each request gets its own server (stateless, so it scales out); `initialize` answers
 *   with an `Mcp-Session-Id`, which is all a session is: the key of its resource subscriptions.
 * - GET (with the session id): the session's SSE stream of `notifications/resources/updated`
 *   (shared/mcp/push.ts), resumable with `Last-Event-ID`.
 * - DELETE (with the session id): ends the session (its subscriptions go).
 * (https://modelcontextprotocol.io/specification/2025-06-18/basic/transports)
 */
import { randomBytes } from 'node:crypto';
import { parseToolMode } from './discovery';
import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import { getAction } from '../actions/registry';
import { requestTimezone } from '../actions/http';
import { getConfig } from '../config';
import { loadAllActions } from '../services';
import { mcpAuthedHandler } from './oauth/bearer';
import { Problem } from '../http/problem';
import { MAX_JSON_BODY_BYTES, readJson } from '../http/validate';
import { syncFeedReader } from './feed';
import { pushStream } from './push';
import { endSession } from './subscriptions';
import type * as McpServerModule from './server';

/** Room for the JSON-RPC envelope around an action's input. */
const ENVELOPE_BYTES = 64 * 1024;
/** The largest body any tool accepts (mail.sendMessage with base64 attachments), read before parsing. */
const MAX_READ_BYTES = 48 * 1024 * 1024 + ENVELOPE_BYTES;

// The SDK takes a few hundred ms to load: only when the MCP endpoint is first used, not at cold start.
const serverModule = (): typeof McpServerModule => require('./server') as typeof McpServerModule;

/**
 * What one JSON-RPC message may weigh: a tools/call as much as its action accepts on its HTTP
 * route (docs/api.md), anything else (tools/list, resources, ...) 1 MiB, as the action routes.
 */
function messageLimit(message: unknown): number {
  const m = message as { method?: unknown; params?: { name?: unknown } } | null;
  if (m?.method === 'tools/call' && typeof m.params?.name === 'string') {
    const action = getAction(m.params.name);
    if (action?.maxBodyBytes) return action.maxBodyBytes + ENVELOPE_BYTES;
  }
  return MAX_JSON_BODY_BYTES + ENVELOPE_BYTES;
}

/** The limit of a request: its heaviest message (MCP 2025-06-18 sends one message per request). */
function bodyLimitOf(body: unknown): number {
  const messages = Array.isArray(body) ? (body as unknown[]) : [body];
  return Math.max(...messages.map(messageLimit));
}

/**
 * tools/call params the SDK's own schema would refuse with −32603 and a raw schema dump: answered
 * here as JSON-RPC −32602 (invalid params) naming what is wrong.
 */
function invalidToolCall(body: unknown): HttpResponseInit | undefined {
  const m = body as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown } | null;
  if (!m || typeof m !== 'object' || Array.isArray(m) || m.method !== 'tools/call') return undefined;
  const params = m.params as { name?: unknown; arguments?: unknown } | undefined;
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  let message: string | undefined;
  if (!isObject(params)) message = 'params must be an object with the tool name and its arguments';
  else if (typeof params!.name !== 'string') message = 'params.name must be the tool name (a string)';
  else if (params!.arguments !== undefined && !isObject(params!.arguments))
    message = "params.arguments must be an object of the tool's input fields";
  if (!message) return undefined;
  const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : null;
  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      error: { code: -32602, message: `Invalid params: ${message}` },
    }),
  };
}

/**
 * The MCP transport spec: servers must validate Origin (DNS rebinding). Browsers send it; a
 * request from a page whose origin is not in MCP_ALLOWED_ORIGINS is refused (`null` too).
 */
function checkOrigin(request: HttpRequest): void {
  const origin = request.headers.get('origin');
  if (origin === null) return;
  if (getConfig().MCP_ALLOWED_ORIGINS.includes(origin)) return;
  throw new Problem(
    'origin_not_allowed',
    `Requests from the browser origin "${origin.slice(0, 100)}" are not allowed on /api/mcp. An operator can allow it in MCP_ALLOWED_ORIGINS.`,
    { origin: origin.slice(0, 100) },
  );
}

function webRequest(request: HttpRequest): Request {
  const headers = new Headers();
  request.headers.forEach((value, key) => headers.append(key, value));
  return new Request(request.url, { method: request.method, headers });
}

const SESSION = /^[A-Za-z0-9_-]{22,64}$/;

/** The request's session id; a malformed one is ignored (as if none was sent). */
function sessionOf(request: HttpRequest): string | undefined {
  const id = request.headers.get('mcp-session-id') ?? '';
  return SESSION.test(id) ? id : undefined;
}

function isInitialize(body: unknown): boolean {
  const messages = Array.isArray(body) ? (body as unknown[]) : [body];
  return messages.some((m) => (m as { method?: unknown } | null)?.method === 'initialize');
}

function needSession(method: string): Problem {
  return new Problem(
    'invalid_input',
    `${method} /api/mcp needs the Mcp-Session-Id header that initialize returned.`,
    { errors: [{ field: 'mcp-session-id', message: 'is missing or not a session id of this server' }] },
  );
}

export const mcpHandler: HttpHandler = mcpAuthedHandler(async ({ request, caller, context }) => {
  checkOrigin(request);
  if (request.method === 'GET') {
    if (!(request.headers.get('accept') ?? '').includes('text/event-stream')) {
      throw new Problem(
        'invalid_input',
        'GET /api/mcp opens an event stream: send Accept: text/event-stream.',
        {
          errors: [{ field: 'accept', message: 'must include text/event-stream' }],
        },
      );
    }
    const session = sessionOf(request);
    if (!session) throw needSession('GET');
    const last = request.headers.get('last-event-id');
    const lastEventId = last !== null && /^\d{1,15}$/.test(last) ? Number(last) : undefined;
    return {
      status: 200,
      headers: {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        'mcp-session-id': session,
      },
      body: pushStream(
        caller.userId,
        session,
        lastEventId,
        (request as { signal?: AbortSignal }).signal,
        context,
      ),
    };
  }
  if (request.method === 'DELETE') {
    const session = sessionOf(request);
    if (!session) throw needSession('DELETE');
    await endSession(caller.userId, session);
    return { status: 204 };
  }
  loadAllActions();
  // ?preset=mail-triage or ?tools=discovery: a smaller tool list (shared/mcp/discovery.ts).
  const toolMode = parseToolMode(new URL(request.url));
  const body = await readJson(request, MAX_READ_BYTES, bodyLimitOf);
  const invalid = invalidToolCall(body);
  if (invalid) return invalid;
  // initialize starts a session: a fresh id, which the client sends on every later request.
  const session = isInitialize(body) ? randomBytes(24).toString('base64url') : sessionOf(request);
  const response = await serverModule().serveMcp(webRequest(request), body, {
    userId: caller.userId,
    invocationId: context.invocationId,
    log: context,
    ...(caller.assertion ? { assertion: caller.assertion } : {}),
    noCache: /no-cache/i.test(request.headers.get('cache-control') ?? ''),
    // An MCP client the user allowed to read only gets the read-only tools.
    readOnly:
      getConfig().MCP_READ_ONLY ||
      (caller.client !== undefined && !caller.client.scope.includes('mcp:write')),
    timezone: requestTimezone(request.headers),
    changes: syncFeedReader,
    toolMode,
    ...(session ? { sessionId: session } : {}),
  });
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  if (session && isInitialize(body) && response.status === 200) headers['mcp-session-id'] = session;
  const init: HttpResponseInit = { status: response.status, headers };
  if (response.body) init.body = new Uint8Array(await response.arrayBuffer());
  return init;
});
