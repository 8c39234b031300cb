/**
 * The local loop survives a restart: connect through `npm start`, write mail and a file, stop it,
 * start it again: the same user's actions answer 200 and their data is where it was (the sandbox
 * tenant under SANDBOX_STATE_DIR, Azurite under AZURITE_LOCATION). `npm start -- --reset` empties
 * both and says what it removed; `npm run reset` refuses while npm start runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { sampleSettings } from '../../scripts/harness';
import { freePort } from '../support/ports';
import { runNpm, waitHealthy, type RunningScript } from '../support/npm-start';

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const RETURN_URL = 'https://platform.example.test/return';
const FUNCTION_KEY = 'local-function-key';
const USER_ID = 'restart-user';

let dataDir: string;
let env: Record<string, string>;
let port: number;
let sandboxUrl: string;
let running: RunningScript | undefined;

/** The platform's caller token, signed with the sample settings' development secret. */
async function callerToken(): Promise<string> {
  const s = sampleSettings();
  return await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(USER_ID)
    .setIssuer(s.CALLER_TOKEN_ISSUER!)
    .setAudience(s.CALLER_TOKEN_AUDIENCE!)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(s.CALLER_TOKEN_SECRET));
}

async function api(path: string, body: unknown, init: { raw?: string } = {}): Promise<Response> {
  return await fetch(`http://127.0.0.1:${port}/api${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'x-functions-key': FUNCTION_KEY,
      authorization: `Bearer ${await callerToken()}`,
      'content-type': init.raw === undefined ? 'application/json' : 'application/octet-stream',
    },
    body: init.raw ?? JSON.stringify(body),
  });
}

async function start(args: string[] = []): Promise<RunningScript> {
  running = runNpm(['start', ...(args.length ? ['--', ...args] : [])], env);
  await waitHealthy(running, port);
  return running;
}

async function stop(): Promise<void> {
  const run = running;
  running = undefined;
  // npm itself dies of the SIGINT (exit code null); the node process under it stops cleanly.
  await run?.interrupt();
}

/** The adele file the test wrote, read straight from the sandbox's Graph. */
async function sandboxFileStatus(): Promise<number> {
  const minted = await fetch(`${sandboxUrl}/_sandbox/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: ADELE, scopes: ['Files.Read'] }),
  });
  const { access_token } = (await minted.json()) as { access_token: string };
  const res = await fetch(`${sandboxUrl}/v1.0/me/drive/root:/Restart/kept.txt`, {
    headers: { authorization: `Bearer ${access_token}` },
  });
  return res.status;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'm365-restart-'));
  port = await freePort();
  const sandboxPort = await freePort();
  sandboxUrl = `https://127.0.0.1:${sandboxPort}`;
  env = {
    PORT: String(port),
    SANDBOX_PORT: String(sandboxPort),
    SANDBOX_BROWSER_PORT: String(await freePort()),
    AZURITE_QUEUE_PORT: String(await freePort()),
    AZURITE_TABLE_PORT: String(await freePort()),
    AZURITE_LOCATION: join(dataDir, 'azurite'),
    SANDBOX_STATE_DIR: join(dataDir, 'sandbox'),
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    RETURN_URL_ALLOWLIST: RETURN_URL,
  };
});

afterAll(async () => {
  await running?.interrupt();
  rmSync(dataDir, { recursive: true, force: true });
});

test('connect, stop npm start, start again: the same user is connected and the data is there; --reset empties both', async () => {
  const first = await start();
  expect(first.output()).toContain('sandbox: new demo tenant');
  // The consent page would wait for a person: the sandbox signs the hinted user in directly.
  const approve = await fetch(`${sandboxUrl}/_sandbox/identity/auto-approve`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ enabled: true }),
  });
  expect(approve.status).toBe(200);

  const begun = await api('/auth/microsoft/start', { loginHint: ADELE, returnUrl: RETURN_URL });
  expect(begun.status).toBe(200);
  const { authorizationUrl } = (await begun.json()) as { authorizationUrl: string };
  const authorized = await fetch(authorizationUrl, { redirect: 'manual' });
  const callback = await fetch(authorized.headers.get('location')!, { redirect: 'manual' });
  expect(callback.status).toBe(302);
  const returned = new URL(callback.headers.get('location')!).searchParams;
  const completed = await api('/auth/microsoft/complete', { completionCode: returned.get('completion') });
  expect(completed.status).toBe(200);

  const subject = `Before the restart ${Date.now()}`;
  const sent = await api('/mail/sendMessage', { to: [MEGAN], subject, body: 'still there?' });
  expect(sent.status).toBe(200);
  const uploaded = await api(`/files/upload?path=${encodeURIComponent('/Restart/kept.txt')}`, undefined, {
    raw: 'kept across restarts',
  });
  expect(uploaded.status).toBe(200);
  await stop();

  const second = await start();
  expect(second.output()).toMatch(/sandbox: tenant restored from .* \(saved \d{4}-/);
  // While it runs, a reset would be written over: it refuses and says why.
  const refused = runNpm(['run', 'reset'], env);
  expect(await refused.exited).not.toBe(0);
  expect(refused.output()).toMatch(/npm start \(pid \d+\) is using .*: stop it \(Ctrl-C\), then reset/);

  const listed = await api('/mail/listMessages', { folder: 'sentitems', search: `subject:${subject}` });
  expect(listed.status).toBe(200);
  const items = ((await listed.json()) as { items: Array<{ subject: string }> }).items;
  expect(items.map((m) => m.subject)).toContain(subject);
  const downloaded = await fetch(
    `http://127.0.0.1:${port}/api/files/download?path=${encodeURIComponent('/Restart/kept.txt')}`,
    { headers: { 'x-functions-key': FUNCTION_KEY, authorization: `Bearer ${await callerToken()}` } },
  );
  expect(downloaded.status).toBe(200);
  expect(await downloaded.text()).toBe('kept across restarts');
  await stop();

  const third = await start(['--reset']);
  expect(third.output()).toMatch(/reset: removed the sandbox tenant in .*sandbox \(saved .*: 3 users/);
  expect(third.output()).toMatch(/reset: removed the Azurite tables and queues in .*azurite/);
  expect(third.output()).toContain('sandbox: new demo tenant');
  // Azurite was emptied: the platform user has no connection any more.
  const after = await api('/mail/listMessages', { folder: 'sentitems' });
  expect(after.status).toBe(409);
  expect(((await after.json()) as { code: string }).code).toBe('not_connected');
  // The sandbox was emptied: the file is gone from the fresh demo tenant.
  expect(await sandboxFileStatus()).toBe(404);
  await stop();

  const reset = runNpm(['run', 'reset'], env);
  expect(await reset.exited).toBe(0);
  expect(reset.output()).toMatch(
    /reset: removed the sandbox tenant in .*\(saved .*: 3 users, 0 refresh tokens issued/,
  );
}, 120000);
