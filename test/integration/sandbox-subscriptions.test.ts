/**
 * The sandbox's change-notification subscriptions over real HTTPS, with a real loopback HTTP
 * endpoint playing the subscriber. Each [EMU] rule cites ../shared/reference/graph-behaviour.md §6
 * and the Microsoft page it comes from:
 * https://learn.microsoft.com/graph/api/subscription-post-subscriptions,
 * https://learn.microsoft.com/graph/change-notifications-delivery-webhooks,
 * https://learn.microsoft.com/graph/change-notifications-lifecycle-events.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sandbox } from '../../sandbox';
import { controlCall, startTestSandbox, mintToken } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
let sandbox: Sandbox;
let adeleId: string;

// ---------------------------------------------------------------- the subscriber endpoint

interface Received {
  path: string;
  validationToken?: string;
  contentType?: string;
  body: Json | string;
}
type Mode = 'echo' | 'html' | 'encoded' | 'forbidden' | 'silent';
const endpoint = {
  server: undefined as Server | undefined,
  url: '',
  mode: 'echo' as Mode,
  /** Notification POSTs to fail with 500 before answering 202. */
  failNext: 0,
  delayMs: 0,
  received: [] as Received[],
};

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function startEndpoint(): Promise<void> {
  endpoint.server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const text = await readAll(req);
      const token = url.searchParams.get('validationToken');
      endpoint.received.push({
        path: url.pathname,
        ...(token !== null ? { validationToken: token } : {}),
        contentType: req.headers['content-type'],
        body: text && req.headers['content-type']?.includes('json') ? (JSON.parse(text) as Json) : text,
      });
      if (token !== null) {
        if (endpoint.mode === 'silent') return; // never answers: the handshake times out
        if (endpoint.mode === 'forbidden') return res.writeHead(403).end();
        if (endpoint.mode === 'html') {
          return res.writeHead(200, { 'content-type': 'text/html' }).end(`<p>${token}</p>`);
        }
        const body = endpoint.mode === 'encoded' ? encodeURIComponent(token) : token;
        return res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
      }
      if (endpoint.delayMs) await new Promise((r) => setTimeout(r, endpoint.delayMs));
      if (endpoint.failNext > 0) {
        endpoint.failNext -= 1;
        return res.writeHead(500).end();
      }
      res.writeHead(202).end();
    })();
  });
  return new Promise((resolve) =>
    endpoint.server!.listen(0, '127.0.0.1', () => {
      endpoint.url = `http://127.0.0.1:${(endpoint.server!.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

// ---------------------------------------------------------------- helpers

const tokenFor = (user: string, scopes: string[]) => mintToken(sandbox, user, scopes);

const ADELE_SCOPES = [
  'Mail.ReadWrite',
  'Calendars.ReadWrite',
  'Contacts.ReadWrite',
  'Files.ReadWrite.All',
  'Tasks.ReadWrite',
];

async function graph(token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return await fetch(`${sandbox.graphBaseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const inMinutes = (m: number) => new Date(sandbox.now() + m * 60_000).toISOString();

async function subscribe(token: string, overrides: Json = {}): Promise<Response> {
  return await graph(token, 'POST', '/subscriptions', {
    changeType: 'created,updated',
    notificationUrl: `${endpoint.url}/notify`,
    lifecycleNotificationUrl: `${endpoint.url}/lifecycle`,
    resource: "me/mailFolders('Inbox')/messages",
    expirationDateTime: inMinutes(600),
    clientState: 'secret-client-state',
    ...overrides,
  });
}

async function created(res: Response): Promise<Json> {
  const body = (await res.json()) as Json;
  if (res.status !== 201) throw new Error(`expected 201, got ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 3000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const notificationsFor = (subId: string, path = '/notify') =>
  endpoint.received
    .filter((r) => r.path === path && typeof r.body === 'object')
    .flatMap((r) => (r.body as Json).value as Json[])
    .filter((n) => n.subscriptionId === subId);

async function sendMail(to: string, subject: string): Promise<void> {
  const res = await graph(await tokenFor(MEGAN, ['Mail.Send']), 'POST', '/me/sendMail', {
    message: {
      subject,
      body: { contentType: 'text', content: 'hi' },
      toRecipients: [{ emailAddress: { address: to } }],
    },
  });
  expect(res.status).toBe(202);
}

beforeAll(async () => {
  await startEndpoint();
  sandbox = await startTestSandbox({ seed: true, subscriptions: { retryDelaysMs: [50, 100] } });
  adeleId = sandbox.directory.findUser(ADELE)!.id;
});
afterAll(async () => {
  await sandbox.stop();
  await new Promise((r) => endpoint.server!.close(r));
});
beforeEach(async () => {
  endpoint.mode = 'echo';
  endpoint.failNext = 0;
  endpoint.delayMs = 0;
  endpoint.received = [];
  await controlCall(sandbox, 'PUT', '/subscriptions/settings', { reset: true, retryDelaysMs: [50, 100] });
  await controlCall(sandbox, 'DELETE', '/subscriptions/stats');
  // Each test starts without subscriptions, so counts belong to it alone.
  for (const s of (await controlCall<Json>(sandbox, 'GET', '/subscriptions')).value as Json[]) {
    await controlCall(sandbox, 'DELETE', `/subscriptions/${s.id}`);
  }
});

describe('creating a subscription (§6.1, §6.3)', () => {
  test('validates both URLs with an exact text/plain echo, then delivers new inbox mail with clientState', async () => {
    const token = await tokenFor(ADELE, ADELE_SCOPES);
    const sub = await created(await subscribe(token));
    expect(sub).toMatchObject({
      resource: "me/mailFolders('Inbox')/messages",
      changeType: 'created,updated',
      clientState: 'secret-client-state',
      lifecycleNotificationUrl: `${endpoint.url}/lifecycle`,
      creatorId: adeleId,
    });
    // Two handshakes: notificationUrl and lifecycleNotificationUrl, each with a URL-encoded token.
    const handshakes = endpoint.received.filter((r) => r.validationToken !== undefined);
    expect(handshakes.map((h) => h.path)).toEqual(['/notify', '/lifecycle']);
    expect(handshakes[0]!.validationToken).toMatch(/^Validation: Testing client application reachability/);
    expect(handshakes[0]!.contentType).toMatch(/^text\/plain/);

    await sendMail(ADELE, 'Quarterly numbers');
    const [n] = await waitFor(() => {
      const list = notificationsFor(sub.id);
      return list.length > 0 ? list : undefined;
    });
    // changeNotification shape (§6.4): ids only, clientState echoed, Outlook's resource form.
    expect(n).toMatchObject({
      subscriptionId: sub.id,
      clientState: 'secret-client-state',
      changeType: 'created',
      tenantId: sandbox.tenantId,
      resourceData: { '@odata.type': '#Microsoft.Graph.Message', id: expect.any(String) },
    });
    expect(n!.resource).toBe(`Users/${adeleId}/Messages/${n!.resourceData.id}`);
    expect(JSON.stringify(n)).not.toContain('Quarterly numbers');
  });

  test('a handshake answered with markup, an encoded token, 403 or nothing fails with 400 and no subscription', async () => {
    const token = await tokenFor(ADELE, ADELE_SCOPES);
    for (const mode of ['html', 'encoded', 'forbidden'] as const) {
      endpoint.mode = mode;
      const res = await subscribe(token);
      expect(res.status).toBe(400);
      expect(((await res.json()) as Json).error.code).toBe('ValidationError');
    }
    endpoint.mode = 'silent';
    await controlCall(sandbox, 'PUT', '/subscriptions/settings', { validationTimeoutMs: 200 });
    const res = await subscribe(token);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error.message).toBe('Subscription validation request timed out.');
    const list = (await (await graph(token, 'GET', '/subscriptions')).json()) as Json;
    expect(list.value).toEqual([]);
  });

  test('notification URLs must be https; plain http is accepted only on loopback (documented deviation)', async () => {
    const token = await tokenFor(ADELE, ADELE_SCOPES);
    const res = await subscribe(token, { notificationUrl: 'http://example.com/hook' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error.message).toMatch(/https/);
  });

  test('maximum lifetimes per resource: over → 400 naming the maximum; under 45 minutes → 45 minutes (§6.2)', async () => {
    const token = await tokenFor(ADELE, ADELE_SCOPES);
    const over = await subscribe(token, { expirationDateTime: inMinutes(10081) });
    expect(over.status).toBe(400);
    expect(((await over.json()) as Json).error).toMatchObject({
      code: 'ExtensionError',
      message: 'Subscription expiration can only be 10080 minutes in the future.',
    });
    const short = await created(await subscribe(token, { expirationDateTime: inMinutes(5) }));
    const minutes = (Date.parse(short.expirationDateTime) - sandbox.now()) / 60_000;
    expect(minutes).toBeGreaterThan(44.9);
    expect(minutes).toBeLessThanOrEqual(45);
    // driveItem allows 42,300 minutes and only `updated`.
    const drive = { resource: 'me/drive/root', changeType: 'updated', expirationDateTime: inMinutes(42000) };
    expect((await subscribe(token, drive)).status).toBe(201);
    expect((await subscribe(token, { ...drive, changeType: 'created' })).status).toBe(400);
    // todoTask: 4,230 minutes.
    const lists = (await (await graph(token, 'GET', '/me/todo/lists')).json()) as Json;
    const tasks = `me/todo/lists/${lists.value[0].id}/tasks`;
    const todoOver = await subscribe(token, { resource: tasks, expirationDateTime: inMinutes(4300) });
    expect(((await todoOver.json()) as Json).error.message).toContain('4230 minutes');
  });

  test('Teams chat messages need a lifecycle URL beyond one hour (§6.8)', async () => {
    const token = await tokenFor(ADELE, ['Chat.Read']);
    const res = await subscribe(token, {
      resource: `users/${adeleId}/chats/getAllMessages`,
      lifecycleNotificationUrl: undefined,
      expirationDateTime: inMinutes(120),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error.message).toContain(
      'lifecycleNotificationUrl is a required property',
    );
    expect((await subscribe(token, { resource: `users/${adeleId}/chats/getAllMessages` })).status).toBe(201);
  });

  test("permissions: the resource read scope is required; delegated Outlook subscriptions only for one's own mailbox", async () => {
    const calendarOnly = await tokenFor(ADELE, ['Calendars.Read']);
    expect((await subscribe(calendarOnly)).status).toBe(403);
    const megan = sandbox.directory.findUser(MEGAN)!;
    const other = await subscribe(await tokenFor(ADELE, ADELE_SCOPES), {
      resource: `users/${megan.id}/messages`,
    });
    expect(other.status).toBe(403);
    const unknown = await subscribe(await tokenFor(ADELE, ADELE_SCOPES), { resource: 'me/nonsense' });
    expect(unknown.status).toBe(400);
  });
});

describe('managing subscriptions (§6.5)', () => {
  test('get, list, renew, reauthorize and delete; lifecycleNotificationUrl cannot be patched', async () => {
    const token = await tokenFor(ADELE, ADELE_SCOPES);
    const sub = await created(
      await subscribe(token, { resource: 'me/events', changeType: 'created,updated,deleted' }),
    );
    const got = (await (await graph(token, 'GET', `/subscriptions/${sub.id}`)).json()) as Json;
    expect(got.id).toBe(sub.id);
    const list = (await (await graph(token, 'GET', '/subscriptions')).json()) as Json;
    expect(list.value.map((s: Json) => String(s.id))).toContain(sub.id);
    // Another user's delegated token does not see it.
    const megan = await tokenFor(MEGAN, ['Mail.Read']);
    expect((await graph(megan, 'GET', `/subscriptions/${sub.id}`)).status).toBe(404);

    const renewed = await graph(token, 'PATCH', `/subscriptions/${sub.id}`, {
      expirationDateTime: inMinutes(9000),
    });
    expect(renewed.status).toBe(200);
    expect(Date.parse(((await renewed.json()) as Json).expirationDateTime)).toBeGreaterThan(
      Date.parse(sub.expirationDateTime),
    );
    const bad = await graph(token, 'PATCH', `/subscriptions/${sub.id}`, {
      lifecycleNotificationUrl: `${endpoint.url}/x`,
    });
    expect(bad.status).toBe(400);
    expect((await graph(token, 'POST', `/subscriptions/${sub.id}/reauthorize`)).status).toBe(204);
    expect((await graph(token, 'DELETE', `/subscriptions/${sub.id}`)).status).toBe(204);
    expect((await graph(token, 'GET', `/subscriptions/${sub.id}`)).status).toBe(404);
    expect(
      (await graph(token, 'PATCH', `/subscriptions/${sub.id}`, { expirationDateTime: inMinutes(100) }))
        .status,
    ).toBe(404);
  });

  test('a subscription not renewed expires on the sandbox clock', async () => {
    const token = await tokenFor(ADELE, ADELE_SCOPES);
    const sub = await created(await subscribe(token, { expirationDateTime: inMinutes(60) }));
    sandbox.advanceClock(61 * 60_000);
    expect((await graph(await tokenFor(ADELE, ADELE_SCOPES), 'GET', `/subscriptions/${sub.id}`)).status).toBe(
      404,
    );
  });
});

describe('delivery (§6.4)', () => {
  test('events, contacts, To Do tasks and the drive root each notify their own subscription', async () => {
    const token = await tokenFor(ADELE, ADELE_SCOPES);
    const all = 'created,updated,deleted';
    const events = await created(await subscribe(token, { resource: 'me/events', changeType: all }));
    const contacts = await created(await subscribe(token, { resource: 'me/contacts', changeType: all }));
    const lists = (await (await graph(token, 'GET', '/me/todo/lists')).json()) as Json;
    const listId = lists.value[0].id as string;
    const tasks = await created(
      await subscribe(token, { resource: `me/todo/lists/${listId}/tasks`, changeType: all }),
    );
    const drive = await created(await subscribe(token, { resource: 'me/drive/root', changeType: 'updated' }));

    const contact = (await (await graph(token, 'POST', '/me/contacts', { givenName: 'Ada' })).json()) as Json;
    expect((await graph(token, 'DELETE', `/me/contacts/${contact.id}`)).status).toBe(204);
    await graph(token, 'POST', `/me/todo/lists/${encodeURIComponent(listId)}/tasks`, { title: 'File taxes' });
    const put = await fetch(`${sandbox.graphBaseUrl}/me/drive/root:/notes-sub.txt:/content`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(put.status).toBe(201);
    await graph(token, 'POST', '/me/events', {
      subject: 'Sync',
      start: { dateTime: '2030-01-01T10:00:00', timeZone: 'UTC' },
      end: { dateTime: '2030-01-01T11:00:00', timeZone: 'UTC' },
    });

    await waitFor(() => notificationsFor(events.id).length > 0 || undefined);
    await waitFor(() => notificationsFor(contacts.id).length >= 2 || undefined);
    await waitFor(() => notificationsFor(tasks.id).length > 0 || undefined);
    await waitFor(() => notificationsFor(drive.id).length > 0 || undefined);
    expect(notificationsFor(contacts.id).map((n) => String(n.changeType))).toEqual(['created', 'deleted']);
    expect(notificationsFor(events.id)[0]!.resource).toMatch(new RegExp(`^Users/${adeleId}/Events/`));
    expect(notificationsFor(tasks.id)[0]!.resourceData['@odata.type']).toBe('#Microsoft.Graph.todoTask');
    // OneDrive: `updated` on the subscribed root, no resource data (delta tells what changed).
    expect(notificationsFor(drive.id)[0]).toMatchObject({ changeType: 'updated', resource: 'me/drive/root' });
    expect(notificationsFor(drive.id)[0]!.resourceData).toBeUndefined();
  });

  test('SharePoint: a list and a document library notify `updated` on the subscribed resource', async () => {
    // list resource ("subscriptions": updated only) and driveItem on /drives/{id}/root.
    const token = await tokenFor(ADELE, ['Sites.ReadWrite.All']);
    const sites = (await (await graph(token, 'GET', '/sites?search=marketing')).json()) as Json;
    const site = (sites.value as Json[]).find((s) => s.displayName === 'Marketing')!;
    const campaigns = (await (await graph(token, 'GET', `/sites/${site.id}/lists/Campaigns`)).json()) as Json;
    const library = (await (await graph(token, 'GET', `/sites/${site.id}/drive`)).json()) as Json;
    const listResource = `sites/${site.id}/lists/${campaigns.id}`;
    const list = await created(await subscribe(token, { resource: listResource, changeType: 'updated' }));
    const driveResource = `drives/${library.id}/root`;
    const drive = await created(await subscribe(token, { resource: driveResource, changeType: 'updated' }));

    const item = await graph(token, 'POST', `/sites/${site.id}/lists/${campaigns.id}/items`, {
      fields: { Title: 'Notified' },
    });
    expect(item.status).toBe(201);
    const put = await graph(token, 'PUT', `/drives/${library.id}/root:/notified.txt:/content`, 'x');
    expect(put.status).toBe(201);

    await waitFor(() => notificationsFor(list.id).length > 0 || undefined);
    await waitFor(() => notificationsFor(drive.id).length > 0 || undefined);
    expect(notificationsFor(list.id)[0]).toMatchObject({ changeType: 'updated', resource: listResource });
    expect(notificationsFor(drive.id)[0]).toMatchObject({ changeType: 'updated', resource: driveResource });
    // An unknown list is a 404.
    const missing = await subscribe(token, {
      resource: `sites/${site.id}/lists/nope`,
      changeType: 'updated',
    });
    expect(missing.status).toBe(404);
  });

  test('a failing endpoint is retried with backoff until it answers 2xx', async () => {
    const token = await tokenFor(ADELE, ADELE_SCOPES);
    const sub = await created(await subscribe(token));
    endpoint.failNext = 2;
    await sendMail(ADELE, 'Retry me');
    await waitFor(() => notificationsFor(sub.id).length >= 3 || undefined);
    const stats = await controlCall<Json>(sandbox, 'GET', '/subscriptions/stats');
    expect(stats).toMatchObject({ failedAttempts: 2, retries: 2, delivered: 1, dropped: 0, outstanding: 0 });
  });

  test('`outstanding` counts a notification waiting for its retry until it is delivered', async () => {
    await controlCall(sandbox, 'PUT', '/subscriptions/settings', { retryDelaysMs: [1500] });
    const token = await tokenFor(ADELE, ADELE_SCOPES);
    const sub = await created(await subscribe(token));
    endpoint.failNext = 1;
    await sendMail(ADELE, 'Wait for me');
    const failed = await waitFor(async () => {
      const s = await controlCall<Json>(sandbox, 'GET', '/subscriptions/stats');
      return s.failedAttempts >= 1 ? s : undefined;
    });
    expect(failed).toMatchObject({ delivered: 0, outstanding: 1 });
    await waitFor(() => notificationsFor(sub.id).length >= 2 || undefined);
    const done = await waitFor(async () => {
      const s = await controlCall<Json>(sandbox, 'GET', '/subscriptions/stats');
      return s.outstanding === 0 ? s : undefined;
    });
    expect(done).toMatchObject({ delivered: 1, failedAttempts: 1 });
  });

  test('after the last retry the notification is dropped and the subscription hears `missed` (§6.4, §6.6)', async () => {
    const token = await tokenFor(ADELE, ADELE_SCOPES);
    const sub = await created(await subscribe(token));
    endpoint.failNext = 3;
    await sendMail(ADELE, 'Lost');
    const missed = await waitFor(() =>
      notificationsFor(sub.id, '/lifecycle').find((n) => n.lifecycleEvent === 'missed'),
    );
    expect(missed).toMatchObject({ clientState: 'secret-client-state', subscriptionId: sub.id });
    expect((await controlCall<Json>(sandbox, 'GET', '/subscriptions/stats')).dropped).toBe(1);
  });

  test('answers slower than the threshold are counted (Graph throttles slow endpoints)', async () => {
    const token = await tokenFor(ADELE, ADELE_SCOPES);
    await controlCall(sandbox, 'PUT', '/subscriptions/settings', { slowThresholdMs: 100 });
    const sub = await created(await subscribe(token));
    endpoint.delayMs = 250;
    await sendMail(ADELE, 'Slowly');
    const stats = await waitFor(async () => {
      const s = await controlCall<Json>(sandbox, 'GET', '/subscriptions/stats');
      return s.delivered >= 1 ? s : undefined;
    });
    expect(stats.slow).toBeGreaterThanOrEqual(1);
    expect(notificationsFor(sub.id)).toHaveLength(1);
  });
});

describe('lifecycle events on demand (§6.6)', () => {
  test('subscriptionRemoved removes the subscription and tells the lifecycle URL; reauthorizationRequired is cleared by reauthorize', async () => {
    const token = await tokenFor(ADELE, ADELE_SCOPES);
    const sub = await created(await subscribe(token));
    await controlCall(sandbox, 'POST', `/subscriptions/${sub.id}/lifecycle`, {
      event: 'reauthorizationRequired',
    });
    const reauth = await waitFor(() => notificationsFor(sub.id, '/lifecycle')[0]);
    expect(reauth).toMatchObject({
      lifecycleEvent: 'reauthorizationRequired',
      clientState: 'secret-client-state',
    });
    const flagged = (await controlCall<Json>(sandbox, 'GET', '/subscriptions')).value.find(
      (s: Json) => s.id === sub.id,
    );
    expect(flagged.needsReauthorization).toBe(true);
    expect((await graph(token, 'POST', `/subscriptions/${sub.id}/reauthorize`)).status).toBe(204);
    const cleared = (await controlCall<Json>(sandbox, 'GET', '/subscriptions')).value.find(
      (s: Json) => s.id === sub.id,
    );
    expect(cleared.needsReauthorization).toBe(false);

    await controlCall(sandbox, 'POST', `/subscriptions/${sub.id}/lifecycle`, {
      event: 'subscriptionRemoved',
    });
    await waitFor(() =>
      notificationsFor(sub.id, '/lifecycle').find((n) => n.lifecycleEvent === 'subscriptionRemoved'),
    );
    expect((await graph(token, 'GET', `/subscriptions/${sub.id}`)).status).toBe(404);
  });
});
