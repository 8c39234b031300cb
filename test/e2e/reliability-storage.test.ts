/**
 * Storage outage: a dedicated Azurite (fixed ports, on-disk location) is stopped mid-run and
 * restarted on the same ports with the same data. While it is down every call answers a 503
 * storage_unavailable problem with Retry-After and nothing reaches Graph (no partial writes: an
 * action that cannot read its connection never sends); after the restart everything written
 * before is there and the app recovers without a restart of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, type RunningAzurite } from '../../scripts/azurite';
import { freePort } from '../support/ports';
import { injectFault, requestLog } from '../support/sandbox';
import { startTestApp, type TestApp } from '../support/app';

const ADELE = 'adele.vance@contoso.test';
let t: TestApp;
let azurite: RunningAzurite | undefined;
let location: string;
let ports: { queuePort: number; tablePort: number };

async function startStorage(): Promise<RunningAzurite> {
  return await startAzurite({ location, ...ports });
}

beforeAll(async () => {
  location = mkdtempSync(join(tmpdir(), 'reliability-azurite-'));
  ports = { queuePort: await freePort(), tablePort: await freePort() };
  azurite = await startStorage();
  // One account holds everything here (a sharded run's other account would stay up).
  t = await startTestApp({ env: { AzureWebJobsStorage: azurite.connectionString, STORAGE_SHARDS: '1' } });
});
afterAll(async () => {
  await t?.stop();
  await azurite?.stop();
  rmSync(location, { recursive: true, force: true });
});

async function json(res: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('Azurite stopped mid-run: 503 storage_unavailable and no Graph writes; after a restart everything is back', async () => {
  const userId = await t.connect(ADELE, { features: ['todo'] });
  const before = await json(await t.call(userId, 'POST', '/todo/createTask', { title: 'before the outage' }));
  expect(before.status).toBe(201);

  await azurite!.stop();
  azurite = undefined;
  const from = t.sandbox.log.lastSeq;
  const started = Date.now();
  const during = await Promise.all([
    t.call(userId, 'POST', '/todo/createTask', { title: 'during the outage' }).then(json),
    t.call(userId, 'POST', '/todo/listTasks', {}).then(json),
    t.call(userId, 'GET', '/connections/me').then(json),
    t.call(`other-${Date.now()}`, 'POST', '/auth/microsoft/start', { loginHint: ADELE }).then(json),
  ]);
  const elapsed = Date.now() - started;
  for (const res of during) {
    expect(res).toMatchObject({ status: 503, body: { code: 'storage_unavailable' } });
  }
  // One storage retry (shared/storage/clients.ts): callers hear back within a second or so.
  expect(elapsed).toBeLessThan(5_000);
  // Nothing was sent to Graph (no half-done action): the connection could not even be read.
  expect((await requestLog(t.sandbox, from)).filter((e) => e.path.startsWith('/v1.0/'))).toEqual([]);

  azurite = await startStorage();
  const me = await json(await t.call(userId, 'GET', '/connections/me'));
  expect(me).toMatchObject({ status: 200, body: { status: 'connected' } });
  const list = await json(
    await t.call(userId, 'POST', '/todo/listTasks', { top: 100 }, { 'cache-control': 'no-cache' }),
  );
  expect(list.status).toBe(200);
  const titles = (list.body.items as Array<{ title: string }>).map((i) => i.title);
  expect(titles).toContain('before the outage');
  expect(titles).not.toContain('during the outage');
  const after = await json(await t.call(userId, 'POST', '/todo/createTask', { title: 'after the outage' }));
  expect(after.status).toBe(201);
  // A new user can connect again: the OAuth state table works after the restart.
  expect(await t.connect(ADELE, { features: ['todo'] })).toBeTruthy();
});

test('storage failing after Graph accepted a send: the caller is told it was sent, never "nothing was changed"', async () => {
  const userId = await t.connect(ADELE, { features: ['mail'] });
  const user = t.sandbox.directory.findUser(ADELE)!;
  // Graph holds the send for a moment (it has the whole request and executes it afterwards);
  // storage goes down meanwhile, so recording the result and the audit entry both fail.
  await injectFault(t.sandbox, { method: 'POST', path: '/sendMail$', userId: user.id, delayMs: 3000 });
  const from = t.sandbox.log.lastSeq;
  const key = `k-${Date.now()}`;
  const sending = t.call(
    userId,
    'POST',
    '/mail/sendMessage',
    { to: [ADELE], subject: 'during an outage', body: 'x' },
    {
      'idempotency-key': key,
    },
  );
  while (!(await requestLog(t.sandbox, from)).some((e) => e.path.endsWith('/sendMail'))) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await azurite!.stop();
  azurite = undefined;
  const res = await json(await sending);
  expect(res).toMatchObject({ status: 200, body: { sent: true } });
  const sends = (await requestLog(t.sandbox, from)).filter((e) => e.path.endsWith('/sendMail'));
  expect(sends.map((e) => e.status)).toEqual([202]);

  azurite = await startStorage();
  // The key's result could not be stored: a repeat within the lease is told it is in progress,
  // not run again (after the lease it is resolved from Sent Items: test/e2e/mail.test.ts).
  const again = await json(
    await t.call(
      userId,
      'POST',
      '/mail/sendMessage',
      { to: [ADELE], subject: 'during an outage', body: 'x' },
      {
        'idempotency-key': key,
      },
    ),
  );
  expect(again.status).toBe(409);
  expect((await requestLog(t.sandbox, from)).filter((e) => e.path.endsWith('/sendMail'))).toHaveLength(1);
});
