/**
 * A persisted sandbox (npm start's: sandbox/persist.ts) keeps the tenant across a restart: the
 * refresh token issued before still redeems, the access token still verifies, mail, file bytes,
 * Key Vault secrets, subscriptions and the clock are where they were. A `kill -9` at any moment
 * leaves a state that loads. Every other test's sandbox stays in memory.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { Sandbox } from '../../sandbox';
import { filesState } from '../../sandbox/graph/files/state';
import { readSnapshot, STATE_FILE, StateError } from '../../sandbox/persist';
import { controlCall, sendMailAs, startTestSandbox, TEST_APP, waitFor } from '../support/sandbox';

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const root = join(__dirname, '..', '..');

/** Sign-in through authorize (auto-approved by login_hint) and the token endpoint. */
async function signIn(sandbox: Sandbox, user: string, scopes: string): Promise<Record<string, string>> {
  const authorize = new URL(`${sandbox.url}/${sandbox.tenantId}/oauth2/v2.0/authorize`);
  authorize.search = new URLSearchParams({
    client_id: TEST_APP.clientId,
    response_type: 'code',
    redirect_uri: TEST_APP.redirectUri,
    scope: scopes,
    login_hint: user,
    state: 'restart-test',
  }).toString();
  const redirect = await fetch(authorize, { redirect: 'manual' });
  const code = new URL(redirect.headers.get('location') ?? '').searchParams.get('code');
  if (!code) throw new Error(`authorize answered ${redirect.status} without a code`);
  return await token(sandbox, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: TEST_APP.redirectUri,
    scope: scopes,
  });
}

async function token(sandbox: Sandbox, form: Record<string, string>): Promise<Record<string, string>> {
  const res = await fetch(`${sandbox.url}/${sandbox.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: TEST_APP.clientId,
      client_secret: TEST_APP.clientSecret,
      ...form,
    }),
  });
  const body = (await res.json()) as Record<string, string>;
  if (res.status !== 200) throw new Error(`token answered ${res.status}: ${body.error_description}`);
  return body;
}

async function graph(
  sandbox: Sandbox,
  accessToken: string,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const request = () =>
    fetch(`${sandbox.graphBaseUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${accessToken}`, ...(init.headers as Record<string, string>) },
    });
  try {
    return await request();
  } catch (err) {
    // A keep-alive connection to the stopped sandbox on the same port: once more on a new one.
    if (init.method && init.method !== 'GET') throw err;
    return await request();
  }
}

describe('a persisted sandbox keeps its tenant across a restart', () => {
  let dir: string;
  let receiver: Server;
  const notifications: Array<{ subscriptionId: string; changeType: string }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'm365-sandbox-state-'));
    receiver = createServer((req, res) => {
      const validation = new URL(req.url ?? '/', 'http://x').searchParams.get('validationToken');
      if (validation) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(validation);
        return;
      }
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const parsed = JSON.parse(body) as { value: Array<{ subscriptionId: string; changeType: string }> };
        notifications.push(...parsed.value);
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    await new Promise<void>((r) => receiver.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('tokens, mail, file bytes, secrets, subscriptions and the clock survive stop and start', async () => {
    const first = await startTestSandbox({ stateDir: dir, autoApprove: true });
    const scopes = 'openid offline_access Mail.ReadWrite Mail.Send Files.ReadWrite';
    const signedIn = await signIn(first, ADELE, scopes);
    const access = signedIn.access_token!;
    expect(signedIn.refresh_token).toEqual(expect.any(String));

    const sent = await graph(first, access, '/me/sendMail', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        message: {
          subject: 'Written before the restart',
          body: { contentType: 'text', content: 'still here?' },
          toRecipients: [{ emailAddress: { address: MEGAN } }],
        },
      }),
    });
    expect(sent.status).toBe(202);
    const uploaded = await graph(first, access, '/me/drive/root:/restart/notes.txt:/content', {
      method: 'PUT',
      body: 'first version',
    });
    expect(uploaded.status).toBe(201);
    const fileId = ((await uploaded.json()) as { id: string }).id;
    // A replaced file's old bytes are deleted only once a snapshot no longer names them.
    const replaced = await graph(first, access, `/me/drive/items/${fileId}/content`, {
      method: 'PUT',
      body: 'kept across restarts',
    });
    expect(replaced.status).toBe(200);
    await controlCall(first, 'PUT', '/keyvault/secrets/restart-secret', { value: 'vault value' });
    const subscribed = await graph(first, access, '/subscriptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        changeType: 'created',
        notificationUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notify`,
        resource: 'me/mailFolders/inbox/messages',
        expirationDateTime: new Date(first.now() + 3 * 24 * 3600 * 1000).toISOString(),
        clientState: 'restart-client-state',
      }),
    });
    expect(subscribed.status).toBe(201);
    const subscriptionId = ((await subscribed.json()) as { id: string }).id;
    await controlCall(first, 'POST', '/clock', { advanceSeconds: 600 });
    const { port, browserUrl } = first;
    await first.stop();

    const second = await startTestSandbox({
      stateDir: dir,
      port,
      browserPort: Number(new URL(browserUrl).port),
    });
    try {
      expect(second.persistence?.snapshot).toBeDefined();
      // The clock kept its offset (ten minutes ahead, give or take the test's own time).
      expect(second.now() - Date.now()).toBeGreaterThan(550 * 1000);

      // Same signing key: the access token issued before the restart still verifies.
      const sentItems = await graph(second, access, `/me/mailFolders/sentitems/messages?$select=subject`);
      expect(sentItems.status).toBe(200);
      const sentSubjects = ((await sentItems.json()) as { value: Array<{ subject: string }> }).value;
      expect(sentSubjects.map((m) => m.subject)).toContain('Written before the restart');

      // The refresh token issued before the restart redeems (the app's connection stays connected).
      const refreshed = await token(second, {
        grant_type: 'refresh_token',
        refresh_token: signedIn.refresh_token!,
        scope: scopes,
      });
      expect(refreshed.access_token).toEqual(expect.any(String));

      const { access_token: meganToken } = await controlCall<{ access_token: string }>(
        second,
        'POST',
        '/tokens',
        {
          user: MEGAN,
          scopes: ['Mail.Read'],
        },
      );
      const inbox = await graph(second, meganToken, `/me/mailFolders/inbox/messages?$select=subject&$top=50`);
      expect(
        ((await inbox.json()) as { value: Array<{ subject: string }> }).value.map((m) => m.subject),
      ).toContain('Written before the restart');

      const content = await graph(second, refreshed.access_token!, `/me/drive/items/${fileId}/content`);
      const body = content.status === 302 ? await fetch(content.headers.get('location')!) : content;
      expect(await body.text()).toBe('kept across restarts');
      // Only bytes the state names are on disk: the replaced version was deleted after a save.
      const named = [...filesState(second).content.values()].map((path) => basename(path));
      expect(readdirSync(join(dir, 'files')).sort()).toEqual(named.sort());

      const vault = new SecretClient(
        second.keyVaultUrl,
        new ClientSecretCredential(second.tenantId, TEST_APP.clientId, TEST_APP.clientSecret, {
          authorityHost: second.authorityHost,
          disableInstanceDiscovery: true,
        }),
        { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } },
      );
      expect((await vault.getSecret('restart-secret')).value).toBe('vault value');

      // The subscription made before the restart notifies about a change made after it.
      await sendMailAs(second, MEGAN, ADELE, 'Written after the restart');
      const hit = await waitFor(() => notifications.find((n) => n.subscriptionId === subscriptionId));
      expect(hit.changeType).toBe('created');
    } finally {
      await second.stop();
    }
  }, 30000);
});

describe('crash safety', () => {
  beforeAll(() => {
    // The child below runs the transpiled sandbox, as npm start does.
    execFileSync(process.execPath, [join(root, 'scripts', 'build-fast.mjs'), '--quiet'], { cwd: root });
  });

  test('a kill -9 while the sandbox is busy saving leaves a state that loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm365-sandbox-crash-'));
    // The child writes mail as fast as it can (each request schedules a save of a growing state)
    // and overwrites one file again and again (content files written and discarded).
    const child = `
      const { startSandbox } = require(${JSON.stringify(join(root, 'dist', 'sandbox', 'index.js'))});
      (async () => {
        const s = await startSandbox({ port: 0, stateDir: process.argv[1] });
        const t = await (await fetch(s.url + '/_sandbox/tokens', { method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user: 'adele.vance@contoso.test', scopes: ['Mail.ReadWrite', 'Files.ReadWrite'] }) })).json();
        const h = { authorization: 'Bearer ' + t.access_token, 'content-type': 'application/json' };
        const big = 'x'.repeat(20000);
        console.log('busy');
        for (let i = 0; ; i++) {
          await fetch(s.graphBaseUrl + '/me/messages', { method: 'POST', headers: h,
            body: JSON.stringify({ subject: 'crash ' + i, body: { contentType: 'text', content: big } }) });
          await fetch(s.graphBaseUrl + '/me/drive/root:/crash.txt:/content', { method: 'PUT', headers: h, body: 'version ' + i });
        }
      })();`;
    let filesFound = 0;
    try {
      for (const delayMs of [150, 400, 700, 1100]) {
        const proc = spawn(process.execPath, ['-e', child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
        await new Promise((r) => setTimeout(r, delayMs));
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;

        expect(readSnapshot(dir)).toBeDefined();
        const restarted = await startTestSandbox({ stateDir: dir });
        try {
          const { access_token } = await controlCall<{ access_token: string }>(restarted, 'POST', '/tokens', {
            user: ADELE,
            scopes: ['Files.Read'],
          });
          const res = await graph(restarted, access_token, '/me/drive/root:/crash.txt:/content');
          if (res.status !== 404) {
            // The file the snapshot names has its bytes: never a dangling content file.
            const body = res.status === 302 ? await fetch(res.headers.get('location')!) : res;
            expect(body.status).toBe(200);
            expect(await body.text()).toMatch(/^version \d+$/);
            filesFound += 1;
          }
        } finally {
          await restarted.stop();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The later kills find the file the earlier runs saved: the check above did run.
    expect(filesFound).toBeGreaterThan(0);
  }, 60000);

  test('a leftover temp file is ignored; an unreadable state names the file and the reset command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm365-sandbox-torn-'));
    try {
      const first = await startTestSandbox({ stateDir: dir });
      await first.stop();
      // A write killed before its rename leaves only a temp file beside the last good snapshot.
      writeFileSync(join(dir, `${STATE_FILE}.12345.tmp`), 'half a snap');
      const again = await startTestSandbox({ stateDir: dir });
      expect(again.persistence?.snapshot?.directory.users.size).toBeGreaterThan(0);
      await again.stop();

      writeFileSync(join(dir, STATE_FILE), Buffer.from([0xff, 0x0f, 0x01]));
      expect(() => readSnapshot(dir)).toThrow(StateError);
      await expect(startTestSandbox({ stateDir: dir })).rejects.toThrow(
        new RegExp(`${STATE_FILE} cannot be read .*npm run reset`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('two sandboxes cannot share one state directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm365-sandbox-lock-'));
    const proc = spawn(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(join(root, 'dist', 'sandbox', 'index.js'))}).startSandbox({ port: 0, stateDir: process.argv[1] }).then(() => console.log('up'))`,
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
      await expect(startTestSandbox({ stateDir: dir })).rejects.toThrow(
        new RegExp(`Another sandbox \\(pid ${proc.pid}\\) is using the state in`),
      );
    } finally {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      expect(existsSync(join(dir, STATE_FILE))).toBe(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
