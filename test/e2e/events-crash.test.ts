/**
 * Signed events survive a `kill -9` of the app mid-delivery (issue 36, docs/events.md): the app
 * runs in its own process (the local host over the built dist/, as `npm start` runs it) against
 * this test's sandbox and Azurite; a receiver verifying with the `standardwebhooks` package holds
 * one event's POST open and the test kills the app at that moment. After a restart every mail is
 * delivered once by `webhook-id` and in order, the interrupted one again with the same id. And a
 * burst of actions cut by a kill -9 loses no audit entry: after a restart every action answered
 * 200 has its entry (journaled before the answer, shared/audit/journal.ts).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  apiCaller,
  configureEnv,
  connectUser,
  startHarnessSandbox,
  TEST_APP,
  type Caller,
} from '../../scripts/harness';
import { startAzurite, type RunningAzurite } from '../../scripts/azurite';
import type { Sandbox } from '../../sandbox';
import { queueClient } from '../../shared/storage/clients';
import { SYNC_JOBS_QUEUE } from '../../shared/sync/jobs';
import { listSyncStates } from '../../shared/sync/state';
import { freePort } from '../support/ports';
import { EventReceiver } from '../support/receiver';
import { sendMailAs } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SECRET = 'whsec_' + Buffer.from('events-secret-for-the-kill-9-test').toString('base64');
const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const FUNCTION_KEY = 'crash-test-function-key';
const MASTER_KEY = 'crash-test-master-key';
const root = join(__dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The app alone (no sandbox, no Azurite): the local host over dist/, as scripts/dev.ts starts it. */
const APP_PROCESS = `
const { join } = require('node:path');
const [dist, port, functionKey, masterKey] = process.argv.slice(1);
const { loadFunctions } = require(join(dist, 'shared', 'runtime', 'load.js'));
const { startLocalHost } = require(join(dist, 'scripts', 'localhost.js'));
startLocalHost({
  registrations: loadFunctions(join(dist, 'functions')),
  port: Number(port), functionKey, masterKey, timers: false, queuePollMs: 100, log: () => undefined,
}).then((host) => console.log('up ' + host.url));`;

/** Mail subjects delivered, once each by webhook-id, in arrival order. */
const mailSubjects = (r: EventReceiver): string[] =>
  r
    .unique()
    .filter((d) => d.body.type === 'mail.created')
    .map((d) => String(d.body.data.summary.subject));

let sandbox: Sandbox;
let azurite: RunningAzurite;
let port: number;
let app: ChildProcess | undefined;
let appOutput = '';
const receiver = new EventReceiver([SECRET]);

async function startApp(): Promise<void> {
  appOutput = '';
  const child = spawn(
    process.execPath,
    ['-e', APP_PROCESS, join(root, 'dist'), String(port), FUNCTION_KEY, MASTER_KEY],
    { env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  app = child;
  child.stderr.on('data', (d: Buffer) => (appOutput += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      appOutput += d.toString();
      if (appOutput.includes('up http')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the app exited (${code}):\n${appOutput}`)));
  });
}

async function killApp(): Promise<void> {
  const child = app!;
  app = undefined;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

const call: Caller = (...args) => apiCaller(`http://127.0.0.1:${port}/api`, FUNCTION_KEY)(...args);

// Deadlines are generous: the app runs in its own process, which a busy CI machine (the whole
// suite on 2 cores) can slow several-fold; nothing here depends on how fast it is.
async function until(check: () => Promise<boolean> | boolean, what: string, ms = 90000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}\n${appOutput.slice(-2000)}`);
}

beforeAll(async () => {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-fast.mjs'), '--quiet'], { cwd: root });
  sandbox = await startHarnessSandbox({ autoApprove: true });
  azurite = await startAzurite();
  port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/api/auth/microsoft/callback`;
  configureEnv(sandbox, redirectUri, {
    AzureWebJobsStorage: azurite.connectionString,
    EVENTS_SIGNING_SECRETS: SECRET,
    EVENTS_RETRY_SECONDS: '1',
    EVENTS_TIMEOUT_SECONDS: '3',
  });
  sandbox.directory.apps.get(TEST_APP.clientId)!.redirectUris = [redirectUri];
  await receiver.start();
  await startApp();
}, 60000);

afterAll(async () => {
  if (app) await killApp();
  await receiver.stop();
  await sandbox.stop();
  await azurite.stop();
  rmSync(process.env.AUDIT_JOURNAL_DIR!, { recursive: true, force: true });
});

test('kill -9 while a receiver holds an event open: after a restart every mail arrives once, in order', async () => {
  const registered = await fetch(`http://127.0.0.1:${port}/api/events/endpoints`, {
    method: 'PUT',
    headers: { 'x-functions-key': MASTER_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ url: receiver.url }),
  });
  expect(registered.status).toBe(200);
  const adele = await connectUser(call, ADELE, { features: ['mail'] });
  await until(() => receiver.unique().some((d) => d.body.type === 'connection.connected'), 'connected');

  // The receiver is down while five mails arrive and are synced into the feed.
  receiver.answer = () => 503;
  const subjects = ['crash-1', 'crash-2', 'crash-3', 'crash-4', 'crash-5'];
  for (const s of subjects) await sendMailAs(sandbox, MEGAN, ADELE, s);
  await until(async () => {
    const res = await call(adele, 'GET', '/changes?after=0');
    const items = ((await res.json()) as { items: Json[] }).items;
    return items.filter((e) => e.service === 'mail').length >= subjects.length;
  }, 'five mails in the feed');
  // No sync round may be left holding its lease when the app dies (it would outlive the test).
  const jobs = await queueClient(SYNC_JOBS_QUEUE);
  await until(async () => (await jobs.getProperties()).approximateMessagesCount === 0, 'no sync job');
  await until(async () => (await listSyncStates(adele)).every((s) => !s.leaseId), 'the inbox round finished');

  // It comes back; the third mail's POST is held open and the app is killed right then.
  const held = new Promise<string>((resolve) => (receiver.held = resolve));
  receiver.holdSubject = 'crash-3';
  receiver.answer = () => 204;
  const heldId = await held;
  await killApp();
  expect(mailSubjects(receiver)).toEqual(['crash-1', 'crash-2']);

  // Restarted, the next change resumes the stream where the dead instance left it.
  await startApp();
  await sendMailAs(sandbox, MEGAN, ADELE, 'crash-6');
  await until(() => mailSubjects(receiver).length >= 6, 'all six mails delivered');

  expect(mailSubjects(receiver)).toEqual([...subjects, 'crash-6']);
  // The interrupted event came again with the id it had when the app died.
  const third = receiver.unique().find((d) => d.body.data?.summary?.subject === 'crash-3');
  expect(third?.id).toBe(heldId);
  // Every delivery verified, and the stream kept the feed's order.
  expect(receiver.rejected).toBe(0);
  const seqs = receiver.unique().map((d) => d.body.data.seq as number);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
}, 300000);

test('kill -9 in the middle of a burst of actions: every action that answered 200 has its audit entry', async () => {
  if (!app) await startApp();
  const deadPid = app!.pid;
  const userId = await connectUser(call, MEGAN, { features: ['mail', 'calendar'] });
  let answered = 0;
  let killed: Promise<void> | undefined;
  const burst = Array.from({ length: 40 }, async () => {
    const res = await call(userId, 'POST', '/profile/getMailboxSettings', {});
    await res.text();
    if (res.status === 200) answered++;
    // The process dies while most of the burst is still in flight.
    if (answered === 8 && !killed) killed = killApp();
  });
  await Promise.allSettled(burst);
  await killed;
  expect(answered).toBeGreaterThanOrEqual(8);
  // Entries still in the dead process's journal (shared/audit/journal.ts) are written by the next
  // process: after the restart, the user's audit lists every action that answered.
  await startApp();
  const audited = async () => {
    const res = await call(userId, 'GET', '/audit?limit=500');
    const { entries } = (await res.json()) as { entries: Array<{ action: string; outcome: string }> };
    return entries.filter((e) => e.action === 'profile.getMailboxSettings' && e.outcome === 'success').length;
  };
  await until(async () => (await audited()) >= answered, 'an audit entry for every answered action');
  expect(await audited()).toBeGreaterThanOrEqual(answered);
  // Nothing of the dead process is left in the journal.
  const left = readdirSync(process.env.AUDIT_JOURNAL_DIR!).filter((f) => f.startsWith(`audit-${deadPid}-`));
  expect(left).toEqual([]);
}, 120000);
