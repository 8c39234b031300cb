/**
 * `POST /api/mcp`: the Model Context Protocol over streamable HTTP, authenticated exactly like
 * the action routes (function key + the caller's bearer JWT; the user is its `sub`). Each request
 * gets its own server (stateless), so there is no SSE stream to open with GET and no session to
 * end with DELETE: both answer 405, as the spec allows for servers without them
 * (https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#listening-for-messages-from-the-server).
 */
import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import { allActions } from '../actions/registry';
import { requestTimezone } from '../actions/http';
import { getConfig } from '../config';
import { loadAllActions } from '../actions/load';
import { authedHandler } from '../http/handler';
import { Problem } from '../http/problem';
import { MAX_JSON_BODY_BYTES, readJson } from '../http/validate';
import { syncFeedReader } from './feed';
import type * as McpServerModule from './server';

/** Room for the JSON-RPC envelope around the largest action input. */
const ENVELOPE_BYTES = 64 * 1024;

// The SDK takes a few hundred ms to load: only when the MCP endpoint is first used, not at cold start.
const serverModule = (): typeof McpServerModule => require('./server') as typeof McpServerModule;

function bodyLimit(): number {
  return Math.max(MAX_JSON_BODY_BYTES, ...allActions().map((a) => a.maxBodyBytes ?? 0)) + ENVELOPE_BYTES;
}

function webRequest(request: HttpRequest): Request {
  const headers = new Headers();
  request.headers.forEach((value, key) => headers.append(key, value));
  return new Request(request.url, { method: request.method, headers });
}

export const mcpHandler: HttpHandler = authedHandler(async ({ request, caller, context }) => {
  loadAllActions();
  if (request.method !== 'POST') {
    throw new Problem(
      'method_not_allowed',
      'This MCP server is stateless: send every JSON-RPC message with POST (there is no SSE stream or session).',
      {},
      { allow: 'POST' },
    );
  }
  const body = await readJson(request, bodyLimit());
  const response = await serverModule().serveMcp(webRequest(request), body, {
    userId: caller.userId,
    invocationId: context.invocationId,
    log: context,
    noCache: /no-cache/i.test(request.headers.get('cache-control') ?? ''),
    readOnly: getConfig().MCP_READ_ONLY,
    timezone: requestTimezone(request.headers),
    changes: syncFeedReader,
  });
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  const init: HttpResponseInit = { status: response.status, headers };
  if (response.body) init.body = new Uint8Array(await response.arrayBuffer());
  return init;
});
