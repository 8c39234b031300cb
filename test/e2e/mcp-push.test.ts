/**
 * MCP push (issue 36): the official MCP SDK client subscribes to `m365://changes`, a mail arrives
 * in the sandbox, the client is sent `notifications/resources/updated` on its session's GET
 * stream and reads the new entry; a stream resumed with `Last-Event-ID` is told what arrived while
 * it was away; a per-service resource only fires for its service; ending the session drops its
 * subscriptions.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { appendChanges, latestSeq } from '../../shared/sync/feed';
import { FUNCTION_KEY, startTestApp, type TestApp } from '../support/app';
import { sendMailAs } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestApp;
let adele: string;

async function client(
  updates: string[],
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const c = new Client({ name: 'e2e-push', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${t.api}/mcp`), {
    requestInit: {
      headers: { 'x-functions-key': FUNCTION_KEY, authorization: `Bearer ${await t.tokenFor(adele)}` },
    },
  });
  c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updates.push(n.params.uri);
  });
  await c.connect(transport);
  return { client: c, transport };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  t = await startTestApp();
  adele = await t.connect(ADELE, { features: ['mail'] });
});
afterAll(async () => await t.stop());

test('an MCP SDK client subscribes, a mail arrives, it is notified and reads the new entry', async () => {
  const updates: string[] = [];
  const { client: c, transport } = await client(updates);
  try {
    expect(c.getServerCapabilities()?.resources).toMatchObject({ subscribe: true });
    expect(transport.sessionId).toMatch(/^[\w-]{22,}$/);
    const listed = await c.listResources();
    expect(listed.resources.map((r) => r.uri)).toEqual(
      expect.arrayContaining(['m365://changes', 'm365://changes/mail', 'm365://changes/calendar']),
    );
    await c.subscribeResource({ uri: 'm365://changes' });
    await c.subscribeResource({ uri: 'm365://changes/calendar' });
    const cursor = await latestSeq(adele);

    await sendMailAs(t.sandbox, MEGAN, ADELE, 'Told at once');

    await until(() => updates.includes('m365://changes'), 'notifications/resources/updated');
    // Only the whole feed changed: the calendar resource was not touched.
    expect(updates).not.toContain('m365://changes/calendar');
    const read = await c.readResource({ uri: `m365://changes?after=${cursor}` });
    const page = JSON.parse((read.contents[0] as { text: string }).text) as Json;
    expect((page.items as Json[]).map((e) => e.summary?.subject as string)).toContain('Told at once');

    // Unsubscribed resources are not announced again.
    await c.unsubscribeResource({ uri: 'm365://changes' });
    const seen = updates.length;
    await appendChanges(adele, [
      {
        service: 'mail',
        resource: 'inbox',
        id: 'after-unsub',
        type: 'created',
        summary: null,
        dedupe: 'unsub-1',
      },
    ]);
    await sleep(1000);
    expect(updates.length).toBe(seen);
  } finally {
    await c.close();
  }
});

test('a stream resumed with Last-Event-ID is told what arrived while it was away', async () => {
  const updates: string[] = [];
  const { client: c, transport } = await client(updates);
  const session = transport.sessionId!;
  try {
    await c.subscribeResource({ uri: 'm365://changes/mail' });
  } finally {
    // The client goes away (its stream with it); the session's subscription stays in storage.
    await transport.close();
  }
  const away = await latestSeq(adele);
  await appendChanges(adele, [
    {
      service: 'mail',
      resource: 'inbox',
      id: 'while-away',
      type: 'created',
      summary: null,
      dedupe: 'away-1',
    },
  ]);
  const controller = new AbortController();
  const res = await fetch(`${t.api}/mcp`, {
    headers: {
      'x-functions-key': FUNCTION_KEY,
      authorization: `Bearer ${await t.tokenFor(adele)}`,
      accept: 'text/event-stream',
      'mcp-session-id': session,
      'last-event-id': String(away),
    },
    signal: controller.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const reader = res.body!.getReader();
  let text = '';
  try {
    while (!text.includes('notifications/resources/updated')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } finally {
    controller.abort();
  }
  expect(text).toContain(`id: ${away}\n`); // the priming event: where it resumed
  expect(text).toMatch(
    /data: \{"jsonrpc":"2.0","method":"notifications\/resources\/updated","params":\{"uri":"m365:\/\/changes\/mail"\}\}/,
  );

  // Ending the session drops its subscriptions; a GET without a session is a clear 400.
  const ended = await fetch(`${t.api}/mcp`, {
    method: 'DELETE',
    headers: {
      'x-functions-key': FUNCTION_KEY,
      authorization: `Bearer ${await t.tokenFor(adele)}`,
      'mcp-session-id': session,
    },
  });
  expect(ended.status).toBe(204);
  const noSession = await fetch(`${t.api}/mcp`, {
    headers: {
      'x-functions-key': FUNCTION_KEY,
      authorization: `Bearer ${await t.tokenFor(adele)}`,
      accept: 'text/event-stream',
    },
  });
  expect(noSession.status).toBe(400);
  expect(((await noSession.json()) as Json).errors[0].field).toBe('mcp-session-id');
});
