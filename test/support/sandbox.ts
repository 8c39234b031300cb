/**
 * Test helpers for the sandbox: start one in-process per test file and talk to its control API.
 */
import { Client, GraphError } from '@microsoft/microsoft-graph-client';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox';
import type { FaultSpec } from '../../sandbox/faults';
import type { LogEntry } from '../../sandbox/log';

export const TEST_APP = {
  clientId: '11111111-2222-4333-8444-555555555555',
  clientSecret: 'sandbox-test-client-secret-value-0001',
  redirectUri: 'http://127.0.0.1:7071/api/auth/microsoft/callback',
};

export async function startTestSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return await startSandbox({
    port: 0,
    app: {
      clientId: TEST_APP.clientId,
      clientSecret: TEST_APP.clientSecret,
      redirectUris: [TEST_APP.redirectUri],
    },
    ...options,
  });
}

export async function controlCall<T = unknown>(
  sandbox: Sandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${sandbox.url}/_sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`control ${method} ${path} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function injectFault(sandbox: Sandbox, spec: FaultSpec): Promise<string> {
  return (await controlCall<{ id: string }>(sandbox, 'POST', '/faults', spec)).id;
}

export async function requestLog(sandbox: Sandbox, since = 0): Promise<LogEntry[]> {
  return (await controlCall<{ value: LogEntry[] }>(sandbox, 'GET', `/requests?since=${since}`)).value;
}

/**
 * Waits until the sandbox has seen no request for `quietMs` (the background work a connect starts,
 * such as the first sync rounds and subscriptions, has settled), so a test's own requests are the
 * only ones in flight.
 */
export async function waitForQuiet(sandbox: Sandbox, quietMs = 500, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = sandbox.log.lastSeq;
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    if (sandbox.log.lastSeq !== last) {
      last = sandbox.log.lastSeq;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return;
    }
  }
  throw new Error(`the sandbox did not go quiet within ${timeoutMs} ms`);
}

/** Polls until `fn` gives a value (not undefined or false), or fails after `timeoutMs`. */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A mail `from` sends to `to` straight through the sandbox's Graph (not through the app). */
export async function sendMailAs(
  sandbox: Sandbox,
  from: string,
  to: string,
  subject: string,
  content = 'hi',
): Promise<void> {
  const { access_token } = await controlCall<{ access_token: string }>(sandbox, 'POST', '/tokens', {
    user: from,
    scopes: ['Mail.Send'],
  });
  const res = await fetch(`${sandbox.graphBaseUrl}/me/sendMail`, {
    method: 'POST',
    headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      message: {
        subject,
        body: { contentType: 'text', content },
        toRecipients: [{ emailAddress: { address: to } }],
      },
    }),
  });
  if (res.status !== 202) throw new Error(`sendMail answered ${res.status}`);
}

/** An access token for a sandbox user with these scopes (the control API; no OAuth dance). */
export async function mintToken(
  sandbox: Sandbox,
  user: string,
  scopes: string[],
  extra: { capabilities?: string[]; lifetimeSeconds?: number; clientId?: string; audience?: string } = {},
): Promise<string> {
  return (await controlCall<{ access_token: string }>(sandbox, 'POST', '/tokens', { user, scopes, ...extra }))
    .access_token;
}

/**
 * The real @microsoft/microsoft-graph-client against the sandbox: baseUrl without /v1.0 (the client
 * appends the version) and the sandbox host in customHosts (toolchain.md).
 */
export function graphClientFor(sandbox: Sandbox, token: string): Client {
  return Client.initWithMiddleware({
    authProvider: { getAccessToken: async () => token },
    baseUrl: `${sandbox.url}/`,
    customHosts: new Set([sandbox.graphHost]),
  });
}

/** The GraphError a call fails with (fails the test when it succeeds or fails otherwise). */
export async function graphFailure(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GraphError) return err;
    throw err;
  }
  throw new Error('expected the Graph call to fail');
}
