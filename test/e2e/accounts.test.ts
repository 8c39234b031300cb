/**
 * Several Microsoft accounts per platform user (issue 30): a work account and a personal one
 * connected by one user, mail sent from each by `account`, both in the one change feed with the
 * account named, the default changed, one account disconnected while the other keeps working,
 * and a connection written before accounts existed read and migrated in place.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { PLATFORM_RETURN_URL } from '../../scripts/harness';
import { startTestApp, type TestApp } from '../support/app';
import { MiniBrowser, sandboxUserChoice } from '../support/oauth-browser';
import { sendMailAs } from '../support/sandbox';
import { userTableOf } from '../support/storage';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const SAM = 'sam.rivers@outlook.test';

let t: TestApp;
let megan: string;

beforeAll(async () => {
  t = await startTestApp();
  t.sandbox.directory.addUser({ userPrincipalName: SAM, displayName: 'Sam Rivers', accountType: 'personal' });
  megan = await t.connect(MEGAN, { features: ['mail'] });
}, 60000);
afterAll(async () => await t.stop());

async function call(
  userId: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await t.call(userId, method, path, body);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
}

/** Adds another Microsoft account: start with prompt=select_account, pick it at Microsoft, confirm. */
async function addAccount(userId: string, upn: string): Promise<Json> {
  const start = await call(userId, 'POST', '/auth/microsoft/start', {
    features: ['mail'],
    prompt: 'select_account',
    returnUrl: PLATFORM_RETURN_URL,
  });
  expect(start.status).toBe(200);
  const browser = new MiniBrowser();
  const page = await browser.request(start.body.authorizationUrl as string);
  expect(page.body).toContain(upn); // the account picker
  const signedIn = await browser.submit(page, { user: sandboxUserChoice(page, upn), decision: 'accept' });
  const back = await browser.request(signedIn.location!);
  const returned = new URL(back.location!).searchParams;
  // An account the user already holds is refreshed at once; a new one waits for the platform.
  if (returned.get('status') === 'connected') return { refreshed: true };
  expect(returned.get('status')).toBe('confirm');
  const done = await call(userId, 'POST', '/auth/microsoft/complete', {
    completionCode: returned.get('completion'),
  });
  expect(done.status).toBe(200);
  return done.body;
}

async function inbox(userId: string, subject: string): Promise<Json[]> {
  const res = await call(userId, 'POST', '/mail/listMessages', { folder: 'inbox', top: 50 });
  return (res.body.items as Json[]).filter((m) => m.subject === subject);
}

async function feed(userId: string): Promise<Json[]> {
  return (await call(userId, 'GET', '/changes?after=0&limit=1000')).body.items as Json[];
}

async function until<T>(what: () => Promise<T | undefined>, ms = 30000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await what();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('one user, a work and a personal account: mail from each by account, one feed naming both, one disconnected', async () => {
  const user = 'multi-account-user';
  await t.connect(ADELE, { features: ['mail'], userId: user });
  const added = await addAccount(user, SAM);
  expect(added.account).toMatchObject({ username: SAM, accountType: 'personal' });

  const me = await call(user, 'GET', '/connections/me');
  expect(me.body.account.username).toBe(ADELE); // the first stays the default
  const accounts = me.body.accounts as Json[];
  expect(
    accounts.map((a) => [String(a.account.username), String(a.account.accountType), Boolean(a.default)]),
  ).toEqual([
    [ADELE, 'work', true],
    [SAM, 'personal', false],
  ]);
  const samId = accounts[1]!.id as string;

  // Connecting an account already connected refreshes it: still two.
  expect(await addAccount(user, SAM)).toEqual({ refreshed: true });
  expect(((await call(user, 'GET', '/connections/me')).body.accounts as Json[]).length).toBe(2);

  // Mail from each: by default the first, by email or id the other.
  const fromWork = `from work ${Date.now()}`;
  const fromHome = `from home ${Date.now()}`;
  expect((await call(user, 'POST', '/mail/sendMessage', { to: [MEGAN], subject: fromWork })).status).toBe(
    200,
  );
  expect(
    (await call(user, 'POST', '/mail/sendMessage', { account: SAM, to: [MEGAN], subject: fromHome })).status,
  ).toBe(200);
  const [work] = await until(async () =>
    (await inbox(megan, fromWork)).length ? await inbox(megan, fromWork) : undefined,
  );
  const [home] = await until(async () =>
    (await inbox(megan, fromHome)).length ? await inbox(megan, fromHome) : undefined,
  );
  expect(work!.from.address).toBe(ADELE);
  expect(home!.from.address).toBe(SAM);
  // Reading as the personal account by id sees its own sent mail.
  const sent = await call(user, 'POST', '/mail/listMessages', {
    account: samId,
    folder: 'sentitems',
    top: 10,
  });
  expect((sent.body.items as Json[]).some((m) => m.subject === fromHome)).toBe(true);
  // A personal account never gets work-only features.
  const teams = await call(user, 'POST', '/teams/listChats', { account: SAM });
  expect(teams.status).toBe(403);
  expect(teams.body.code).toBe('feature_unavailable');
  // An account that is not connected is named as such.
  const unknown = await call(user, 'POST', '/mail/listMessages', { account: 'nobody@example.test' });
  expect(unknown.status).toBe(404);
  expect(unknown.body.code).toBe('account_not_found');

  // New mail to each arrives in the user's one feed, naming the account.
  const toWork = `to work ${Date.now()}`;
  const toHome = `to home ${Date.now()}`;
  await sendMailAs(t.sandbox, MEGAN, ADELE, toWork);
  await sendMailAs(t.sandbox, MEGAN, SAM, toHome);
  const entries = await until(async () => {
    const items = await feed(user);
    const subjects = items.map((e) => String(e.summary?.subject));
    return subjects.includes(toWork) && subjects.includes(toHome) ? items : undefined;
  }, 60000);
  const named = (subject: string): unknown => entries.find((e) => e.summary?.subject === subject)?.account;
  expect(named(toWork)).toEqual({ id: accounts[0]!.id, username: ADELE });
  expect(named(toHome)).toEqual({ id: samId, username: SAM });

  // A batch acts as its account, and an item may act as another.
  const batch = await call(user, 'POST', '/batch', {
    items: [
      { id: 'work', action: 'mail.listMessages', input: { folder: 'sentitems', top: 10 } },
      { id: 'home', action: 'mail.listMessages', input: { folder: 'sentitems', top: 10 }, account: SAM },
    ],
  });
  expect(batch.status).toBe(200);
  const [workSent, homeSent] = batch.body.results as Json[];
  expect(JSON.stringify(workSent!.output)).toContain(fromWork);
  expect(JSON.stringify(workSent!.output)).not.toContain(fromHome);
  expect(JSON.stringify(homeSent!.output)).toContain(fromHome);
  const mixed = await call(user, 'POST', '/batch', {
    items: [
      { id: 'a', action: 'mail.listMessages', input: {} },
      { id: 'b', action: 'mail.listMessages', input: {}, account: SAM, dependsOn: ['a'] },
    ],
  });
  expect(mixed.status).toBe(400);

  // Over MCP too: every tool takes account.
  const client = new Client({ name: 'accounts-e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${t.api}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${await t.tokenFor(user)}` } },
    }),
  );
  try {
    const { tools } = await client.listTools();
    expect(tools.find((x) => x.name === 'mail.listMessages')?.inputSchema.properties).toHaveProperty(
      'account',
    );
    const viaMcp = (await client.callTool({
      name: 'mail.listMessages',
      arguments: { account: SAM, folder: 'sentitems', top: 10 },
    })) as { isError?: boolean; structuredContent?: Json };
    expect(viaMcp.isError).toBeFalsy();
    expect(JSON.stringify(viaMcp.structuredContent)).toContain(fromHome);
  } finally {
    await client.close();
  }

  // The default can change.
  expect((await call(user, 'PUT', '/connections/me/default', { account: SAM })).status).toBe(200);
  const asDefault = await call(user, 'POST', '/mail/listMessages', { folder: 'sentitems', top: 10 });
  expect((asDefault.body.items as Json[]).some((m) => m.subject === fromHome)).toBe(true);
  expect((await call(user, 'PUT', '/connections/me/default', { account: ADELE })).status).toBe(200);

  // Disconnecting the personal account: its data goes, the work account keeps working.
  const removed = await call(user, 'DELETE', `/connections/me/accounts/${samId}`);
  expect(removed.status).toBe(200);
  expect(removed.body.erased).toMatchObject({ connection: 1 });
  const left = await call(user, 'GET', '/connections/me');
  expect((left.body.accounts as Json[]).map((a) => String(a.account.username))).toEqual([ADELE]);
  expect((await call(user, 'POST', '/mail/listMessages', { account: SAM })).body.code).toBe(
    'account_not_found',
  );
  expect((await inbox(user, toWork)).length).toBe(1);
  const after = await feed(user);
  expect(after.some((e) => e.summary?.subject === toHome)).toBe(false);
  expect(after.some((e) => e.summary?.subject === toWork)).toBe(true);

  // Erasing the user erases every account.
  await addAccount(user, SAM);
  const erased = await call(user, 'DELETE', '/connections/me');
  expect(erased.body.erased).toMatchObject({ connection: 2 });
  expect((await call(user, 'GET', '/connections/me')).body.status).toBe('not_connected');
}, 120000);

test('a connection written before accounts existed is read and migrated in place on first use', async () => {
  const user = 'legacy-user';
  await t.connect(ADELE, { features: ['mail'], userId: user });
  // What the single-account code left: the connection row alone, no accounts rows.
  const accounts = userTableOf(t, 'accounts', user);
  for await (const row of accounts.listEntities({ queryOptions: { filter: `PartitionKey eq '${user}'` } }))
    await accounts.deleteEntity(user, String(row.rowKey));
  expect((await call(user, 'POST', '/mail/listMessages', { folder: 'inbox', top: 1 })).status).toBe(200);
  const me = await call(user, 'GET', '/connections/me');
  expect(me.body.account.username).toBe(ADELE);
  expect((me.body.accounts as Json[]).map((a) => [String(a.account.username), Boolean(a.default)])).toEqual([
    [ADELE, true],
  ]);
  const rows = [];
  for await (const row of accounts.listEntities({ queryOptions: { filter: `PartitionKey eq '${user}'` } }))
    rows.push(String(row.rowKey));
  expect(rows.sort()).toEqual([expect.stringMatching(/^a[0-9a-f]{11}$/), '~default']);
  // By id it answers too.
  const id = (me.body.accounts as Json[])[0]!.id as string;
  expect(
    (await call(user, 'POST', '/mail/listMessages', { account: id, folder: 'inbox', top: 1 })).status,
  ).toBe(200);
});
