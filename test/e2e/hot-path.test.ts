/**
 * The hot path (issue 29, part 2): an action whose token is valid reads the connection row at most
 * once, and the token this instance keeps is used only while that row is unchanged. A read-only
 * action within CONNECTION_RECHECK_SECONDS of this instance's last read of the row reads it not at
 * all; a write always reads it. A change this instance writes takes effect at the next request, one
 * another instance writes once the bound has passed (at the next request with the bound at 0), and a
 * token Graph refuses is never used again (shared/auth/token-vault.ts).
 */
import http from 'node:http';
import { resetConfig } from '../../shared/config';
import { patchConnection } from '../../shared/storage/connections';
import { startTestApp, type TestApp } from '../support/app';
import { userTableOf } from '../support/storage';
import { waitFor, waitForQuiet } from '../support/sandbox';

const ADELE = 'adele.vance@contoso.test';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => await t.stop());

/** Runs `run` with CONNECTION_RECHECK_SECONDS set to `seconds` (the config is read per request). */
async function withRecheck(seconds: number, run: () => Promise<void>): Promise<void> {
  process.env.CONNECTION_RECHECK_SECONDS = String(seconds);
  resetConfig();
  try {
    await run();
  } finally {
    delete process.env.CONNECTION_RECHECK_SECONDS;
    resetConfig();
  }
}

const settings = async (userId: string) =>
  await t.call(userId, 'POST', '/profile/getMailboxSettings', {}, { 'cache-control': 'no-cache' });

/** Storage requests this process makes for the user's connection row while `run` runs. */
async function connectionReads(userId: string, run: () => Promise<void>): Promise<number> {
  const original = http.request;
  let reads = 0;
  const spy = function (this: unknown, ...args: unknown[]) {
    const opts = args[0] as { method?: string; path?: string } | string | URL;
    const path = typeof opts === 'string' || opts instanceof URL ? String(opts) : (opts.path ?? '');
    const method = typeof opts === 'object' && !(opts instanceof URL) ? (opts.method ?? 'GET') : 'GET';
    if (method === 'GET' && path.includes('/connections(') && decodeURIComponent(path).includes(userId))
      reads++;
    return (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
  };
  (http as { request: unknown }).request = spy;
  try {
    await run();
  } finally {
    (http as { request: unknown }).request = original;
  }
  return reads;
}

/**
 * Runs `run` while the answers to this process's reads of the user's connection row are held back
 * until `release` resolves (the request reached Azurite; only its answer waits).
 */
async function holdingConnectionReads(
  userId: string,
  release: () => Promise<void>,
  run: () => Promise<void>,
): Promise<void> {
  const original = http.request;
  const spy = function (this: unknown, ...args: unknown[]) {
    const req = (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    const opts = args[0] as { method?: string; path?: string } | string | URL;
    const path = typeof opts === 'string' || opts instanceof URL ? String(opts) : (opts.path ?? '');
    if (path.includes('/connections(') && decodeURIComponent(path).includes(userId)) {
      const emit = req.emit.bind(req);
      req.emit = (event: string | symbol, ...rest: unknown[]): boolean => {
        if (event !== 'response') return emit(event, ...rest);
        void release().then(() => emit(event, ...rest));
        return true;
      };
    }
    return req;
  };
  (http as { request: unknown }).request = spy;
  try {
    await run();
  } finally {
    (http as { request: unknown }).request = original;
  }
}

/** Resolves once the sandbox has seen a request matching `match` after `since`, or after 3 s. */
const seenBySandbox = (since: number, match: (path: string, method: string) => boolean) => async () => {
  await waitFor(
    () => t.sandbox.log.since(since).some((e) => match(e.path, e.method)) || undefined,
    3000,
  ).catch(() => undefined);
};

test('with the recheck off, a read starts its Graph call while the connection row is read: the read adds no time to the path', async () =>
  await withRecheck(0, async () => {
    const userId = await t.connect(ADELE, { features: ['mail', 'calendar'] });
    await waitForQuiet(t.sandbox);
    expect((await settings(userId)).status).toBe(200); // the token is acquired and kept
    const since = t.sandbox.log.lastSeq;
    let graphWhileRowHeld = false;
    const graphCall = (path: string) => path.endsWith('/mailboxSettings');
    await holdingConnectionReads(
      userId,
      async () => {
        await seenBySandbox(since, graphCall)();
        graphWhileRowHeld ||= t.sandbox.log.since(since).some((e) => graphCall(e.path));
      },
      async () => {
        expect((await settings(userId)).status).toBe(200);
      },
    );
    expect(graphWhileRowHeld).toBe(true);
  }));

test('a write waits for the connection row: nothing reaches Graph before the row is read', async () => {
  const userId = await t.connect(ADELE, { features: ['mail', 'calendar', 'todo'] });
  await waitForQuiet(t.sandbox);
  expect((await settings(userId)).status).toBe(200);
  const since = t.sandbox.log.lastSeq;
  let writesWhileRowHeld = -1;
  const write = (path: string, method: string) => method !== 'GET' && path.includes('/todo/');
  await holdingConnectionReads(
    userId,
    async () => {
      await seenBySandbox(since, write)(); // waits the 3 s out when (as it must) nothing comes
      writesWhileRowHeld = Math.max(writesWhileRowHeld, 0);
      writesWhileRowHeld += t.sandbox.log.since(since).filter((e) => write(e.path, e.method)).length;
    },
    async () => {
      const res = await t.call(userId, 'POST', '/todo/createTask', { title: 'Held until the row is read' });
      expect(res.status).toBe(201);
    },
  );
  expect(writesWhileRowHeld).toBe(0);
});

test('with the recheck off, an action with a valid token reads the connection row once', async () =>
  await withRecheck(0, async () => {
    const userId = await t.connect(ADELE, { features: ['mail', 'calendar'] });
    await waitForQuiet(t.sandbox);
    expect((await settings(userId)).status).toBe(200); // the token is acquired and kept
    const reads = await connectionReads(userId, async () => {
      expect((await settings(userId)).status).toBe(200);
    });
    expect(reads).toBe(1);
  }));

test('within the recheck bound a read reads no connection row; a write always reads it', async () => {
  const userId = await t.connect(ADELE, { features: ['mail', 'calendar', 'todo'] });
  await waitForQuiet(t.sandbox);
  await withRecheck(60, async () => {
    expect((await settings(userId)).status).toBe(200); // the row is read, the token kept
    const readsOfARead = await connectionReads(userId, async () => {
      expect((await settings(userId)).status).toBe(200);
    });
    expect(readsOfARead).toBe(0);
    const readsOfAWrite = await connectionReads(userId, async () => {
      const res = await t.call(userId, 'POST', '/todo/createTask', { title: 'Reads the row' });
      expect(res.status).toBe(201);
    });
    expect(readsOfAWrite).toBe(1);
  });
});

test('a change written by another instance takes effect once the recheck bound has passed', async () => {
  const userId = await t.connect(ADELE, { features: ['mail', 'calendar'] });
  await waitForQuiet(t.sandbox);
  await withRecheck(1, async () => {
    expect((await settings(userId)).status).toBe(200); // the row is read, the token kept
    // Another instance marks the connection for sign-in: written straight to the table, so this
    // instance hears nothing of it.
    const connections = userTableOf(t, 'connections', userId);
    const row = await connections.getEntity(userId, 'microsoft');
    await connections.updateEntity(
      { partitionKey: userId, rowKey: 'microsoft', status: 'reauth_required', reauthReason: 'AADSTS700082' },
      'Merge',
      { etag: row.etag },
    );
    // The bound passes (only a lower bound on the time: nothing here depends on speed).
    await new Promise((r) => setTimeout(r, 1100));
    const refused = await settings(userId);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { code: string }).code).toBe('reauth_required');
  });
});

test('a change to the connection written through this instance takes effect at the next request', async () => {
  const userId = await t.connect(ADELE, { features: ['mail', 'calendar'] });
  expect((await settings(userId)).status).toBe(200);
  // The connection is marked for sign-in (as after invalid_grant in a sync round).
  await patchConnection(userId, { status: 'reauth_required', reauthReason: 'AADSTS700082' });
  const refused = await settings(userId);
  expect(refused.status).toBe(401);
  expect(((await refused.json()) as { code: string }).code).toBe('reauth_required');
  // Connected again: the new row's token works.
  await t.connect(ADELE, { features: ['mail', 'calendar'], userId });
  expect((await settings(userId)).status).toBe(200);
});

test('a token Graph refuses is not used again: revoked sessions answer reauth_required at once', async () => {
  const userId = await t.connect(ADELE, { features: ['mail', 'calendar'] });
  expect((await settings(userId)).status).toBe(200);
  const user = t.sandbox.directory.findUser(ADELE)!;
  // Revocation counts whole seconds: a token minted in the revocation's second stays valid. The
  // sandbox's clock moves on a few seconds so the kept token is plainly older than the revocation.
  await fetch(`${t.sandbox.url}/_sandbox/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ advanceSeconds: 5 }),
  });
  const revoked = await fetch(`${t.sandbox.url}/_sandbox/users/${user.id}/revoke`, { method: 'POST' });
  expect(revoked.status).toBe(200);
  const refused = await settings(userId);
  expect(refused.status).toBe(401);
  expect(((await refused.json()) as { code: string }).code).toBe('reauth_required');
});

test('after a disconnect through this instance, a read calls Graph no more, not even ahead of the row', async () => {
  const userId = await t.connect(ADELE, { features: ['mail', 'calendar'] });
  expect((await settings(userId)).status).toBe(200); // a token is kept
  expect((await t.call(userId, 'DELETE', '/connections/me')).status).toBe(200);
  await waitForQuiet(t.sandbox);
  const since = t.sandbox.log.lastSeq;
  const res = await settings(userId);
  expect(res.status).toBe(409);
  expect(((await res.json()) as { code: string }).code).toBe('not_connected');
  expect(t.sandbox.log.since(since).filter((e) => e.path.endsWith('/mailboxSettings'))).toEqual([]);
});
