/**
 * After a Teams message is sent (issue 27): edit, react, pin and delete a chat message, an image
 * sent inline downloaded identical, and channel message management behind the admin-consented
 * teams-manage feature.
 */
import { SEED_TEAM } from '../../sandbox/graph/teams';
import { startTestApp, type TestApp } from '../support/app';
import { controlCall, TEST_APP } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
/** A 2×2 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFklEQVR42mP8z8DwnwEJMDIwMDAwAAA1AgP/pZKrvwAAAABJRU5ErkJggg==',
  'base64',
);

let t: TestApp;
let adele: string;
let megan: string;
let chatId: string;

async function call(user: string, action: string, input: unknown): Promise<{ status: number; body: Json }> {
  const res = await t.call(user, 'POST', `/teams/${action}`, input);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
}

async function ok(user: string, action: string, input: unknown): Promise<Json> {
  const res = await call(user, action, input);
  if (res.status >= 300) throw new Error(`${action} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function chatMessage(user: string, id: string): Promise<Json> {
  const page = await ok(user, 'listChatMessages', { chatId, top: 50 });
  return (page.items as Json[]).find((m) => m.id === id)!;
}

beforeAll(async () => {
  t = await startTestApp();
  await controlCall(t.sandbox, 'PATCH', `/apps/${TEST_APP.clientId}`, {
    adminConsentedScopes: [
      'ChannelMessage.Read.All',
      'ChannelMessage.ReadWrite',
      'Channel.Create',
      'ChannelSettings.ReadWrite.All',
      'ChannelMember.ReadWrite.All',
      'TeamMember.ReadWrite.All',
    ],
  });
  adele = await t.connect(ADELE, { features: ['teams', 'teams-history', 'teams-manage'] });
  megan = await t.connect(MEGAN, { features: ['teams'] });
  const adeleId = t.sandbox.directory.findUser(ADELE)!.id;
  const meganId = t.sandbox.directory.findUser(MEGAN)!.id;
  chatId = `19:${[adeleId, meganId].sort().join('_')}@unq.gbl.spaces`;
});
afterAll(async () => await t.stop());

test('send with an inline image, edit, react, pin and delete a chat message; the image downloads identical', async () => {
  const sent = await ok(adele, 'sendChatMessage', {
    chatId,
    text: 'Q3 chart below',
    images: [{ contentType: 'image/png', contentBytes: PNG.toString('base64'), alt: 'Q3 chart' }],
  });
  expect(sent.images).toHaveLength(1);
  const image = await t.call(
    megan,
    'GET',
    `/teams/downloadMessageImage?chatId=${encodeURIComponent(chatId)}&messageId=${sent.id}&hostedContentId=${encodeURIComponent(String(sent.images[0].hostedContentId))}`,
  );
  expect(image.status).toBe(200);
  expect(image.headers.get('content-type')).toBe('image/png');
  expect(Buffer.from(await image.arrayBuffer()).equals(PNG)).toBe(true);

  expect(
    await ok(adele, 'editMessage', { chatId, messageId: sent.id, text: 'Q3 chart (final) below' }),
  ).toEqual({
    edited: true,
    messageId: sent.id,
  });
  const edited = await chatMessage(megan, String(sent.id));
  expect(edited.content).toContain('Q3 chart (final) below');
  expect(edited.editedAt).toEqual(expect.any(String));
  // Only the sender edits.
  const refused = await call(megan, 'editMessage', { chatId, messageId: sent.id, text: 'Hijacked' });
  expect(refused.status).toBe(403);

  await ok(megan, 'react', { chatId, messageId: sent.id, reaction: '👍' });
  await ok(adele, 'react', { chatId, messageId: sent.id, reaction: '🎉' });
  const meganId = t.sandbox.directory.findUser(MEGAN)!.id;
  expect((await chatMessage(adele, String(sent.id))).reactions).toEqual(
    expect.arrayContaining([{ reaction: '👍', userId: meganId }]),
  );
  await ok(megan, 'unreact', { chatId, messageId: sent.id, reaction: '👍' });
  expect((await chatMessage(adele, String(sent.id))).reactions).toHaveLength(1);

  expect(await ok(megan, 'pinMessage', { chatId, messageId: sent.id })).toEqual({
    pinned: true,
    messageId: sent.id,
  });
  expect(await ok(adele, 'pinMessage', { chatId, messageId: sent.id, unpin: true })).toEqual({
    pinned: false,
    messageId: sent.id,
  });

  expect(await ok(adele, 'deleteMessage', { chatId, messageId: sent.id })).toEqual({
    deleted: true,
    messageId: sent.id,
  });
  const gone = await chatMessage(megan, String(sent.id));
  expect(gone).toMatchObject({ deleted: true, content: '', images: [] });
  await ok(adele, 'deleteMessage', { chatId, messageId: sent.id, undo: true });
  expect(await chatMessage(megan, String(sent.id))).toMatchObject({
    deleted: false,
    content: expect.stringContaining('final'),
  });
});

test('bad locations are 400 naming the field; reactions must be emoji', async () => {
  const both = await call(adele, 'editMessage', {
    chatId,
    teamId: SEED_TEAM.id,
    channelId: SEED_TEAM.general,
    messageId: '1',
    text: 'x',
  });
  expect(both.status).toBe(400);
  expect(JSON.stringify(both.body.errors)).toContain('chatId');
  const replyInChat = await call(adele, 'deleteMessage', { chatId, messageId: '1', replyId: '2' });
  expect(replyInChat.status).toBe(400);
  const sent = await ok(adele, 'sendChatMessage', { chatId, text: 'React to me' });
  const word = await call(adele, 'react', { chatId, messageId: sent.id, reaction: 'hooray' });
  expect(word.status).toBe(400);
});

test('channel messages: edited and deleted with teams-manage; without it the consent is named', async () => {
  const sent = await ok(adele, 'sendChannelMessage', {
    teamId: SEED_TEAM.id,
    channelId: SEED_TEAM.general,
    text: 'Launch at 10',
  });
  const where = { teamId: SEED_TEAM.id, channelId: SEED_TEAM.general, messageId: sent.id };
  await ok(adele, 'editMessage', { ...where, text: 'Launch at 11' });
  await ok(adele, 'react', { ...where, reaction: '❤️' });
  await ok(adele, 'deleteMessage', where);
  const withoutManage = await call(megan, 'deleteMessage', where);
  expect(withoutManage.status).toBe(403);
  expect(JSON.stringify(withoutManage.body)).toContain('teams-manage');
});

test('a held send (undo window) whose images cannot be held is refused, and nothing is sent', async () => {
  const policy = await t.call(adele, 'PUT', '/connections/me/send-policy', { undoSeconds: 30 });
  expect(policy.status).toBe(200);
  try {
    const big = Buffer.alloc(40_000, 7).toString('base64');
    const res = await call(adele, 'sendChatMessage', {
      chatId,
      text: 'Too big to hold',
      images: [{ contentType: 'image/png', contentBytes: big }],
    });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
    const page = await ok(megan, 'listChatMessages', { chatId, top: 50 });
    expect((page.items as Json[]).some((m) => String(m.content).includes('Too big to hold'))).toBe(false);
  } finally {
    await t.call(adele, 'PUT', '/connections/me/send-policy', { undoSeconds: 0 });
  }
});
