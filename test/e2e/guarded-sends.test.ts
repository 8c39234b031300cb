/**
 * Guarded sends (issue 28 item 4, docs/assistants.md#guarded-sends), end to end over HTTP and
 * MCP against the sandbox: the send policy (operator settings plus the user's own, set through
 * PUT /api/connections/me/send-policy) asks for confirmation before mail to external or new
 * recipients goes out, refuses domains outside the allow-list, and binds each confirmation token
 * to one exact message, once; with an undo window every send waits (Exchange deferred send in the
 * sandbox, driven by its clock) and mail.cancelSend stops it before anyone receives it.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SEED_USERS } from '../../sandbox/seed';
import { resetConfig } from '../../shared/config';
import { FUNCTION_KEY, startTestApp, type TestApp } from '../support/app';
import { controlCall, waitFor } from '../support/sandbox';

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const LEE = 'lee.gu@contoso.test';
const PARTNER = 'ops@fabrikam.test';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let t: TestApp;
let adele: string;
let megan: string;
let lee: string;
const GUEST = 'guest@fabrikam.test';
const clients: Client[] = [];

async function call(user: string, action: string, input: unknown, headers: Record<string, string> = {}) {
  const res = await t.call(user, 'POST', `/mail/${action}`, input, headers);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
}

async function setPolicy(user: string, policy: Json) {
  const res = await t.call(user, 'PUT', '/connections/me/send-policy', policy);
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

async function sentWithSubject(user: string, subject: string): Promise<Json[]> {
  const res = await call(user, 'listMessages', {
    folder: 'sentitems',
    search: `subject:${subject}`,
    top: 50,
  });
  expect(res.status).toBe(200);
  return (res.body.items as Json[]).filter((m) => m.subject === subject);
}

async function mcp(userId: string): Promise<Client> {
  const client = new Client({ name: 'e2e-guarded', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${t.api}/mcp`), {
    requestInit: {
      headers: { 'x-functions-key': FUNCTION_KEY, authorization: `Bearer ${await t.tokenFor(userId)}` },
    },
  });
  await client.connect(transport);
  clients.push(client);
  return client;
}

/** A tool error's problem+json (its second text block). */
const problemOf = (result: Json): Json => JSON.parse(result.content[1].text as string) as Json;

const unique = (prefix: string) => `${prefix} ${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  t = await startTestApp({ sandbox: { seed: false } });
  for (const user of SEED_USERS) t.sandbox.directory.addUser({ ...user });
  adele = await t.connect(ADELE, { features: ['mail'] });
  megan = await t.connect(MEGAN, { features: ['mail'] });
  // A guest from another organisation, for Teams chats that leave the tenant's domains.
  t.sandbox.directory.addUser({ userPrincipalName: GUEST, displayName: 'Fabrikam Ops' });
  lee = await t.connect(LEE, { features: ['teams'] });
});
afterAll(async () => {
  await Promise.all(clients.map(async (c) => await c.close()));
  await t.stop();
});

describe('the send policy', () => {
  test('a user policy is validated, stored and shown with what applies', async () => {
    const bad = await t.call(adele, 'PUT', '/connections/me/send-policy', {
      confirm: ['sometimes'],
      undoSeconds: 9999,
      colour: 'red',
    });
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as Json;
    expect(problem.code).toBe('invalid_input');
    expect((problem.errors as Json[]).map((e) => String(e.field)).sort()).toEqual([
      'colour',
      'confirm',
      'undoSeconds',
    ]);

    const view = await setPolicy(megan, { confirm: ['external'], undoSeconds: 0 });
    expect(view.own).toMatchObject({ confirm: ['external'], undoSeconds: 0, internalDomains: [] });
    expect(view.effective).toEqual({ confirm: ['external'], undoSeconds: 0 });
    const read = await t.call(megan, 'GET', '/connections/me/send-policy');
    expect(((await read.json()) as Json).own.confirm).toEqual(['external']);
    await setPolicy(megan, { confirm: [] });
  });

  test('mail to an external domain needs confirmation: a preview, then it goes out only with the token, once', async () => {
    await setPolicy(adele, { confirm: ['external'] });
    const subject = unique('Partner pricing');
    const message = {
      to: [PARTNER],
      cc: [MEGAN],
      subject,
      body: '<p>Our <b>new</b> prices attached.</p>',
      bodyType: 'html',
    };

    const first = await call(adele, 'sendMessage', message);
    expect(first.status).toBe(409);
    expect(first.body.code).toBe('confirmation_required');
    expect(first.body.reasons).toEqual([{ reason: 'external', recipients: [PARTNER] }]);
    expect(first.body.preview).toEqual({
      channel: 'mail',
      recipients: [PARTNER, MEGAN],
      subject,
      text: 'Our new prices attached.',
    });
    expect(first.body.confirmationToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(await sentWithSubject(adele, subject)).toHaveLength(0);

    // The token confirms this message only: a changed body needs a new confirmation (and does
    // not use up the token).
    const changed = await call(
      adele,
      'sendMessage',
      { ...message, body: 'Different text' },
      {
        'confirmation-token': first.body.confirmationToken as string,
      },
    );
    expect(changed.status).toBe(409);
    expect(changed.body.detail).toMatch(/issued for a different message/);
    expect(await sentWithSubject(adele, subject)).toHaveLength(0);

    const confirmed = await call(adele, 'sendMessage', message, {
      'confirmation-token': first.body.confirmationToken as string,
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.sent).toBe(true);
    expect(await sentWithSubject(adele, subject)).toHaveLength(1);

    const replayed = await call(adele, 'sendMessage', message, {
      'confirmation-token': first.body.confirmationToken as string,
    });
    expect(replayed.status).toBe(409);
    expect(replayed.body.detail).toMatch(/unknown or already used/);
    expect(await sentWithSubject(adele, subject)).toHaveLength(1);

    // Internal recipients only: no confirmation.
    const internal = unique('Team lunch');
    const inside = await call(adele, 'sendMessage', { to: [MEGAN], subject: internal, body: 'Friday?' });
    expect(inside.status).toBe(200);
    expect(await sentWithSubject(adele, internal)).toHaveLength(1);
    await setPolicy(adele, { confirm: [] });
  });

  test('"new": a first mail to someone needs confirmation, later ones do not', async () => {
    await setPolicy(megan, { confirm: ['new'] });
    const first = await call(megan, 'sendMessage', { to: [LEE], subject: unique('Hello Lee'), body: 'Hi' });
    expect(first.status).toBe(409);
    expect(first.body.reasons).toEqual([{ reason: 'new', recipients: [LEE] }]);
    const subject = unique('Hello Lee');
    const ask = await call(megan, 'sendMessage', { to: [LEE], subject, body: 'Hi' });
    const sent = await call(
      megan,
      'sendMessage',
      { to: [LEE], subject, body: 'Hi' },
      {
        'confirmation-token': ask.body.confirmationToken as string,
      },
    );
    expect(sent.status).toBe(200);
    const again = await call(megan, 'sendMessage', {
      to: [LEE],
      subject: unique('Follow-up'),
      body: 'Again',
    });
    expect(again.status).toBe(200);
    await setPolicy(megan, { confirm: [] });
  });

  test('replies are previewed with who they really go to', async () => {
    // A message from outside in Adele's Inbox, then a reply-all under the external policy.
    await setPolicy(megan, { confirm: [] });
    const subject = unique('Offer from Fabrikam');
    const sent = await call(megan, 'sendMessage', { to: [ADELE], cc: [PARTNER], subject, body: 'Offer' });
    expect(sent.status).toBe(200);
    const inbox = await call(adele, 'listMessages', { folder: 'inbox', search: `subject:${subject}` });
    const original = (inbox.body.items as Json[])[0]!;
    await setPolicy(adele, { confirm: ['external'] });
    const reply = await call(adele, 'replyToMessage', {
      messageId: original.id,
      replyAll: true,
      comment: 'Thanks!',
    });
    expect(reply.status).toBe(409);
    expect(reply.body.preview).toMatchObject({
      recipients: [MEGAN, PARTNER],
      subject: `RE: ${subject}`,
      text: 'Thanks!',
    });
    const go = await call(
      adele,
      'replyToMessage',
      { messageId: original.id, replyAll: true, comment: 'Thanks!' },
      {
        'confirmation-token': reply.body.confirmationToken as string,
      },
    );
    expect(go.status).toBe(200);
    expect(await sentWithSubject(adele, `RE: ${subject}`)).toHaveLength(1);
    await setPolicy(adele, { confirm: [] });
  });

  test('the operator allow-list refuses other domains outright, naming them', async () => {
    process.env.SEND_ALLOWED_DOMAINS = 'contoso.test, northwind.test';
    resetConfig();
    try {
      const subject = unique('Leak');
      const res = await call(adele, 'sendMessage', { to: [MEGAN, PARTNER], subject, body: 'x' });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('recipient_not_allowed');
      expect(res.body.domains).toEqual(['fabrikam.test']);
      expect(await sentWithSubject(adele, subject)).toHaveLength(0);
      const ok = await call(adele, 'sendMessage', {
        to: ['buyer@northwind.test'],
        subject: unique('Order'),
        body: 'x',
      });
      expect(ok.status).toBe(200);
    } finally {
      delete process.env.SEND_ALLOWED_DOMAINS;
      resetConfig();
    }
  });
});

describe('over MCP', () => {
  test('a send answers with the preview; it goes only with "confirm": true and the token', async () => {
    process.env.SEND_CONFIRM = 'external';
    resetConfig();
    try {
      const client = await mcp(adele);
      const { tools } = await client.listTools();
      const send = tools.find((tool) => tool.name === 'mail.sendMessage')!;
      expect(Object.keys(send.inputSchema.properties ?? {})).toEqual(
        expect.arrayContaining(['confirm', 'confirmationToken']),
      );
      expect(send.description).toMatch(/confirmation_required/);

      const subject = unique('MCP external');
      const args = { to: [PARTNER], subject, body: 'Proposal' };
      const first = (await client.callTool({ name: 'mail.sendMessage', arguments: args })) as Json;
      expect(first.isError).toBe(true);
      const preview = problemOf(first);
      expect(preview.code).toBe('confirmation_required');
      expect(preview.preview.recipients).toEqual([PARTNER]);
      expect(first.content[0].text).toMatch(/^confirmation_required: Nothing was sent/);
      const token = preview.confirmationToken as string;

      // The token alone is not the user's yes.
      const noConfirm = (await client.callTool({
        name: 'mail.sendMessage',
        arguments: { ...args, confirmationToken: token },
      })) as Json;
      expect(problemOf(noConfirm).code).toBe('confirmation_required');
      expect(await sentWithSubject(adele, subject)).toHaveLength(0);

      const yes = (await client.callTool({
        name: 'mail.sendMessage',
        arguments: { ...args, confirm: true, confirmationToken: token },
      })) as Json;
      expect(yes.isError).toBeFalsy();
      expect(yes.structuredContent.sent).toBe(true);
      expect(await sentWithSubject(adele, subject)).toHaveLength(1);
    } finally {
      delete process.env.SEND_CONFIRM;
      resetConfig();
    }
  });
});

async function teams(user: string, action: string, input: unknown, headers: Record<string, string> = {}) {
  const res = await t.call(user, 'POST', `/teams/${action}`, input, headers);
  return { status: res.status, body: (await res.json()) as Json };
}

async function chatTexts(user: string, chatId: string): Promise<string[]> {
  const res = await teams(user, 'listChatMessages', { chatId });
  expect(res.status).toBe(200);
  return (res.body.items as Json[]).map((m) => String(m.content));
}

describe('Teams messages', () => {
  test('a chat with an outside guest needs confirmation; held for the undo window and cancelled, it is never posted', async () => {
    await setPolicy(lee, { confirm: ['external'], undoSeconds: 30 });
    const chat = await teams(lee, 'createChat', { participants: [{ upn: GUEST }] });
    expect(chat.status).toBe(201);
    const chatId = String(chat.body.id);
    const message = { chatId, text: 'Our roadmap: <draft>' };

    const ask = await teams(lee, 'sendChatMessage', message);
    expect(ask.status).toBe(409);
    expect(ask.body.reasons).toEqual([{ reason: 'external', recipients: [GUEST] }]);
    expect(ask.body.preview).toEqual({
      channel: 'teams',
      recipients: [GUEST],
      destination: `chat ${chatId}`,
      text: 'Our roadmap: <draft>',
    });
    const held = await teams(lee, 'sendChatMessage', message, {
      'confirmation-token': ask.body.confirmationToken as string,
    });
    expect(held.status).toBe(201);
    expect(held.body).toEqual({
      held: true,
      sendId: expect.stringMatching(/^held-/),
      undoUntil: expect.any(String),
    });
    expect(await chatTexts(lee, chatId)).toEqual([]);

    const cancelled = await teams(lee, 'cancelSend', { sendId: held.body.sendId });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toEqual({ cancelled: true, sendId: held.body.sendId });
    // The window ends: the release finds nothing to send.
    await t.host.invoke('heldSendWorker', { userId: lee, sendId: held.body.sendId });
    expect(await chatTexts(lee, chatId)).toEqual([]);
    const again = await teams(lee, 'cancelSend', { sendId: held.body.sendId });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('undo_window_passed');
  });

  test('over MCP a held send and its cancel are typed results', async () => {
    await setPolicy(lee, { confirm: [], undoSeconds: 30 });
    const chat = await teams(lee, 'createChat', { participants: [{ upn: MEGAN }] });
    const chatId = String(chat.body.id);
    const client = await mcp(lee);
    await client.listTools(); // the SDK then holds every result to its tool's output schema
    const held = (await client.callTool({
      name: 'teams.sendChatMessage',
      arguments: { chatId, text: 'Maybe not' },
    })) as Json;
    expect(held.isError).toBeFalsy();
    expect(held.structuredContent).toMatchObject({ held: true, sendId: expect.stringMatching(/^held-/) });
    const cancelled = (await client.callTool({
      name: 'teams.cancelSend',
      arguments: { sendId: held.structuredContent.sendId },
    })) as Json;
    expect(cancelled.structuredContent).toEqual({ cancelled: true, sendId: held.structuredContent.sendId });
    await t.host.invoke('heldSendWorker', { userId: lee, sendId: held.structuredContent.sendId });
    expect(await chatTexts(lee, chatId)).toEqual([]);
    await setPolicy(lee, { confirm: [], undoSeconds: 0 });
  });

  test('a held message is posted when its window ends, and can no longer be cancelled', async () => {
    await setPolicy(lee, { confirm: [], undoSeconds: 1 });
    const chat = await teams(lee, 'createChat', { participants: [{ upn: MEGAN }] });
    const chatId = String(chat.body.id);
    const held = await teams(lee, 'sendChatMessage', { chatId, text: 'Standup moved to 10:00' });
    expect(held.status).toBe(201);
    expect(held.body.held).toBe(true);
    // The queue message becomes visible after a second; the local host then releases it.
    await waitFor(async () => (await chatTexts(lee, chatId)).includes('Standup moved to 10:00'), 20_000);
    const late = await teams(lee, 'cancelSend', { sendId: held.body.sendId });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('undo_window_passed');
    expect(await chatTexts(lee, chatId)).toEqual(['Standup moved to 10:00']);
    await setPolicy(lee, { confirm: [], undoSeconds: 0 });
  });
});

async function inboxWithSubject(user: string, subject: string): Promise<Json[]> {
  const res = await call(user, 'listMessages', { folder: 'inbox', search: `subject:${subject}`, top: 50 });
  expect(res.status).toBe(200);
  return (res.body.items as Json[]).filter((m) => m.subject === subject);
}

// Last: it moves the sandbox clock forward, past every undo window.
describe('the undo window', () => {
  test('an external send under the confirm policy waits after confirmation; undone within the window, nothing is delivered', async () => {
    await setPolicy(adele, { confirm: ['external'], undoSeconds: 30 });
    const undone = unique('Undo me');
    const kept = unique('Keep me');
    const external = { to: [PARTNER], cc: [MEGAN], subject: undone, body: 'Draft figures' };

    const ask = await call(adele, 'sendMessage', external);
    expect(ask.status).toBe(409);
    const confirmed = await call(adele, 'sendMessage', external, {
      'confirmation-token': ask.body.confirmationToken as string,
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ sent: true, method: 'deferred', messageId: expect.any(String) });
    expect(Date.parse(confirmed.body.undoUntil as string)).toBeGreaterThan(Date.now());

    const other = await call(adele, 'sendMessage', { to: [MEGAN], subject: kept, body: 'Final figures' });
    expect(other.body).toMatchObject({ method: 'deferred' });
    // A reply waits too.
    const replySubject = unique('Question');
    expect((await call(megan, 'sendMessage', { to: [ADELE], subject: replySubject, body: '?' })).status).toBe(
      200,
    );
    const question = (await inboxWithSubject(adele, replySubject))[0]!;
    const reply = await call(adele, 'replyToMessage', { messageId: question.id, comment: 'Answer' });
    expect(reply.body).toMatchObject({
      sent: true,
      messageId: expect.any(String),
      undoUntil: expect.any(String),
    });

    // Held: nobody has anything yet.
    expect(await inboxWithSubject(megan, undone)).toHaveLength(0);
    expect(await inboxWithSubject(megan, kept)).toHaveLength(0);

    const cancel = await call(adele, 'cancelSend', { messageId: confirmed.body.messageId });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toEqual({ cancelled: true, messageId: confirmed.body.messageId });
    expect((await call(adele, 'cancelSend', { messageId: reply.body.messageId })).status).toBe(200);

    await controlCall(t.sandbox, 'POST', '/clock', { advanceSeconds: 60 });

    expect(await inboxWithSubject(megan, kept)).toHaveLength(1);
    expect(await sentWithSubject(adele, kept)).toHaveLength(1);
    expect(await inboxWithSubject(megan, undone)).toHaveLength(0);
    expect(await sentWithSubject(adele, undone)).toHaveLength(0);
    expect(await inboxWithSubject(megan, `RE: ${replySubject}`)).toHaveLength(0);

    const late = await call(adele, 'cancelSend', { messageId: other.body.messageId });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('undo_window_passed');
    await setPolicy(adele, { confirm: [], undoSeconds: 0 });
  });
});
