/**
 * The sandbox: a local Microsoft 365 tenant (identity platform, Graph v1.0, Key Vault secrets)
 * over HTTPS on loopback, faithful to ../shared/reference/graph-behaviour.md. Startable in-process
 * (tests: `await startSandbox()`) or as a process (`npm start`, sandbox/main.ts).
 *
 * Request pipeline: request id → request log → injected faults → routing (identity, Key Vault,
 * Graph, control API under /_sandbox/).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Socket } from 'node:net';
import { installControl } from './control';
import { graphError, newRequestId, readBody, Router, writeResponse, type SandboxResponse } from './http';
import {
  boundActionOf,
  calledOrigin,
  canonicalGraphPath,
  normaliseActionBody,
  rebaseLinks,
  resourceNotFound,
} from './graph/request-forms';
import { installGraph } from './graph';
import { installIdentity } from './identity';
import { installKeyVault } from './keyvault';
import { RequestLog } from './log';
import { FaultInjector } from './faults';
import { Persistence, type SavedDirectory } from './persist';
import { seedTenant } from './seed';
import { Directory, SANDBOX_TENANT_ID } from './state';
import { createSigningKeys } from './tokens';
import type { Ctx, Sandbox, SandboxOptions } from './context';

export type { Ctx, GraphAuth, Handler, Sandbox, SandboxOptions } from './context';

function loadCertificate(certDir?: string): { cert: Buffer; key: Buffer } {
  const dir = resolve(certDir ?? process.env.SANDBOX_CERT_DIR ?? join(process.cwd(), '.local', 'certs'));
  try {
    return {
      cert: readFileSync(join(dir, 'sandbox-server.pem')),
      key: readFileSync(join(dir, 'sandbox-server.key')),
    };
  } catch {
    throw new Error(
      `The sandbox certificate is missing in ${dir}: run through an npm script (npm start / npm test), which generates it with scripts/with-sandbox-ca.mjs`,
    );
  }
}

/** The browser-facing pages: authorize + consent, sign-out, admin consent, the users page. */
function isBrowserPage(method: string, path: string): boolean {
  if (/^\/[^/]+\/oauth2\/v2\.0\/(authorize|logout)$/.test(path)) return method === 'GET' || method === 'POST';
  if (/^\/[^/]+\/v2\.0\/adminconsent$/.test(path)) return method === 'GET' || method === 'POST';
  return method === 'GET' && (path === '/_sandbox/users' || path === '/_sandbox' || path === '/_sandbox/');
}

function restoreDirectory(directory: Directory, saved: SavedDirectory): void {
  for (const [id, user] of saved.users) directory.users.set(id, user);
  for (const [id, app] of saved.apps) directory.apps.set(id, app);
  for (const [token, record] of saved.refreshTokens) directory.refreshTokens.set(token, record);
  for (const [userId, at] of saved.revokedBefore) directory.revokedBefore.set(userId, at);
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const tls = loadCertificate(options.certDir);
  const persistence = options.stateDir ? new Persistence(options.stateDir) : undefined;
  const saved = persistence?.snapshot;
  const keys = await createSigningKeys(saved?.key);
  const routes = new Router<Ctx>();
  const control = new Router<Ctx>();
  const log = new RequestLog();
  const faults = new FaultInjector();
  const directory = new Directory();
  if (saved) restoreDirectory(directory, saved.directory);
  let clockOffset = saved?.clockOffset ?? 0;
  const clockListeners: Array<() => void> = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer({ cert: tls.cert, key: tls.key });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  const browserServer = createHttpServer();
  browserServer.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolveListen, reject) => {
    browserServer.once('error', reject);
    browserServer.listen(options.browserPort ?? (options.port ? options.port + 1 : 0), '127.0.0.1', () =>
      resolveListen(),
    );
  });
  const browserPort = (browserServer.address() as AddressInfo).port;

  const sandbox: Sandbox = {
    url: `https://127.0.0.1:${port}`,
    port,
    browserUrl: `http://127.0.0.1:${browserPort}`,
    graphBaseUrl: `https://127.0.0.1:${port}/v1.0`,
    authorityHost: `https://127.0.0.1:${port}`,
    graphHost: '127.0.0.1',
    preauthBaseUrl: `https://localhost:${port}`,
    tenantId: SANDBOX_TENANT_ID,
    keyVaultUrl: `https://127.0.0.1:${port}`,
    options: {
      refreshTokenGraceSeconds: 60,
      accessTokenLifetimeSeconds: 3600,
      refreshTokenLifetimeSeconds: 90 * 24 * 3600,
      ...options,
    },
    directory,
    keys,
    routes,
    control,
    log,
    faults,
    ...(persistence ? { persistence } : {}),
    modules: {},
    now: () => Date.now() + clockOffset,
    advanceClock(ms) {
      clockOffset += ms;
      persistence?.changed();
      for (const fn of clockListeners) fn();
    },
    onClockAdvance(fn) {
      clockListeners.push(fn);
    },
    async stop() {
      await Promise.all([
        new Promise<void>((done) => browserServer.close(() => done())),
        new Promise<void>((done) => {
          server.close(() => done());
          for (const socket of sockets) socket.destroy();
        }),
      ]);
      persistence?.close();
    },
  };

  installIdentity(sandbox);
  installKeyVault(sandbox);
  installGraph(sandbox);
  installControl(sandbox);
  if (options.app) {
    // The settings decide the secret and redirect URIs; a saved registration keeps what an admin
    // granted it.
    const before = directory.apps.get(options.app.clientId);
    directory.addApp({
      ...before,
      clientId: options.app.clientId,
      secrets: [{ value: options.app.clientSecret, expiresAt: Date.now() + 2 * 365 * 24 * 3600 * 1000 }],
      redirectUris: options.app.redirectUris,
    });
  }
  if ((options.seed ?? true) && !saved) seedTenant(sandbox);
  if (persistence) {
    const key = await keys.exportPrivate();
    persistence.attach(() => ({
      clockOffset,
      key,
      directory: {
        users: directory.users,
        apps: directory.apps,
        refreshTokens: directory.refreshTokens,
        revokedBefore: directory.revokedBefore,
      },
    }));
    persistence.save();
  }

  server.on('request', (req, res) => handle(req, res, false));
  browserServer.on('request', (req, res) => handle(req, res, true));

  function handle(req: IncomingMessage, res: ServerResponse, browser: boolean): void {
    const requestId = newRequestId();
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, browser ? sandbox.browserUrl : sandbox.url);
    // The plain-HTTP listener serves only what a person opens in a browser; tokens, Graph and
    // Key Vault are never served without TLS.
    if (browser && !isBrowserPage(req.method ?? 'GET', url.pathname)) {
      writeResponse(
        res,
        { status: 404, body: 'Only the sign-in pages are served over http; the APIs are on https.' },
        { 'content-type': 'text/plain; charset=utf-8', 'request-id': requestId },
      );
      return;
    }
    const clientRequestHeader = req.headers['client-request-id'];
    let cachedBody: Promise<Buffer> | undefined;
    // Graph's other spellings of the same request (request-forms.ts): `delta()`, qualified names,
    // `items/root`, action parameters in any case. Routes see the canonical form.
    const path = canonicalGraphPath(url.pathname);
    const action = boundActionOf((req.method ?? 'GET').toUpperCase(), path);
    const body = () => readBody(req).then((b) => (action ? normaliseActionBody(action, b) : b));
    const ctx: Ctx = {
      sandbox,
      req,
      method: (req.method ?? 'GET').toUpperCase(),
      url,
      path,
      params: {},
      query: url.searchParams,
      headers: req.headers,
      requestId,
      clientRequestId: Array.isArray(clientRequestHeader) ? clientRequestHeader[0] : clientRequestHeader,
      body: () => (cachedBody ??= body()),
      async json<T>() {
        const buf = await ctx.body();
        return (buf.length ? JSON.parse(buf.toString('utf8')) : {}) as T;
      },
      responseHeaders: {},
    };
    const isControl = ctx.path.startsWith('/_sandbox/');
    const entry = isControl ? undefined : log.begin(ctx, sandbox.now());

    const finish = (answer: SandboxResponse) => {
      let response = answer;
      const headers: Record<string, string> = {
        'request-id': requestId,
        'client-request-id': ctx.clientRequestId ?? requestId,
        ...ctx.responseHeaders,
      };
      // Graph answers only: identity documents keep their issuer (tokens are validated against it).
      const isGraph = /^\/(v1\.0|preauth|api\/v2\.0)(\/|$)/i.test(ctx.path);
      const origin = isGraph && !browser ? calledOrigin(req.headers.host, sandbox.url) : undefined;
      if (origin) {
        const own = [sandbox.url, sandbox.preauthBaseUrl];
        response = rebaseLinks(response, own, origin);
        for (const [k, v] of Object.entries(headers)) headers[k] = rebaseLinks(v, own, origin);
      }
      if (entry) log.end(entry, response.status, sandbox.now(), ctx);
      writeResponse(res, response, headers);
      persistence?.changed();
      if (options.verbose && !isControl)
        console.log(`sandbox ${ctx.method} ${ctx.path} → ${response.status}`);
    };

    const run = async (): Promise<void> => {
      if (!isControl) {
        const fault = faults.take(ctx);
        if (fault) {
          if (fault.delayMs) {
            // A slow Graph has the whole request before it stalls: a client that gives up does not
            // stop it from executing (the caller's "outcome unknown" case).
            if (!fault.drop && !fault.status) await ctx.body().catch(() => undefined);
            await new Promise((r) => setTimeout(r, fault.delayMs));
          }
          if (fault.drop) {
            if (entry) log.end(entry, 0, sandbox.now(), ctx);
            req.socket.destroy();
            return;
          }
          if (fault.status) {
            finish(fault.response(ctx));
            return;
          }
        }
      }
      const router = isControl ? control : routes;
      const routedPath = isControl ? ctx.path.slice('/_sandbox'.length) : ctx.path;
      const match = router.match(ctx.method, routedPath);
      if (!match) {
        const missing = resourceNotFound(routedPath, (prefix) => router.match('GET', prefix) !== null);
        finish(graphError(ctx, missing.status, missing.code, missing.message));
        return;
      }
      if ('allowed' in match) {
        finish(
          graphError(ctx, 405, 'BadRequest', `${ctx.method} is not supported on ${ctx.path}`, {
            headers: { allow: match.allowed.join(', ') },
          }),
        );
        return;
      }
      ctx.params = match.params;
      finish(await match.handler(ctx));
    };
    run().catch((err: unknown) => {
      const status = (err as { status?: number }).status;
      if (status === 413)
        finish(graphError(ctx, 413, 'RequestEntityTooLarge', 'The request body is too large.'));
      else if (err instanceof SyntaxError)
        finish(graphError(ctx, 400, 'BadRequest', 'Unable to read JSON request payload.'));
      else {
        console.error('sandbox handler failed', err);
        finish(graphError(ctx, 500, 'generalException', 'An internal sandbox error occurred.'));
      }
    });
  }

  return sandbox;
}
