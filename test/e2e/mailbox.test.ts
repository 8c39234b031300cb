/**
 * Mailbox settings and mail management through the local host (issue 24): out of office that
 * really answers senders in its window, Inbox rules on the next arriving mail with categories and
 * their colours, scheduled send on the sandbox clock (and its cancel), MailTips before a send,
 * Focused Inbox, MIME, and the feature's consent.
 */
import { DateTime } from 'luxon';
import { startTestApp, type TestApp } from '../support/app';
import { controlCall, mintToken, sendMailAs } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const LEE = 'lee.gu@contoso.test';
const PAT = 'pat@fabrikam.test';

let t: TestApp;
let adele: string;
let megan: string;
let lee: string;

async function call(user: string, path: string, input: unknown = {}) {
  const res = await t.call(user, 'POST', path, input);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
}

async function ok(user: string, path: string, input: unknown = {}): Promise<Json> {
  const res = await call(user, path, input);
  if (res.status >= 300) throw new Error(`${path} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function messages(user: string, folder = 'inbox'): Promise<Json[]> {
  return (await ok(user, '/mail/listMessages', { folder, top: 100 })).items as Json[];
}

const subjects = (list: Json[]) => list.map((m) => String(m.subject));

async function sandboxNow(): Promise<DateTime> {
  return DateTime.fromISO((await controlCall<{ now: string }>(t.sandbox, 'GET', '/clock')).now, {
    zone: 'UTC',
  });
}

async function advance(seconds: number): Promise<void> {
  await controlCall(t.sandbox, 'POST', '/clock', { advanceSeconds: seconds });
}

beforeAll(async () => {
  t = await startTestApp();
  t.sandbox.directory.addUser({
    userPrincipalName: PAT,
    displayName: 'Pat Fabrikam',
    tenantId: 'b3f0c1d2-0000-4000-8000-00000000fab1',
  });
  adele = await t.connect(ADELE, { features: ['mail', 'mailbox-settings'] });
  megan = await t.connect(MEGAN, { features: ['mail'] });
  lee = await t.connect(LEE, { features: ['mail', 'mailbox-settings'] });
});
afterAll(async () => await t.stop());

test('automatic replies scheduled for a window answer a colleague once inside it, and nobody outside it', async () => {
  const now = (await sandboxNow()).set({ millisecond: 0 });
  const start = now.plus({ hours: 1 });
  const end = now.plus({ hours: 3 });
  const set = await ok(adele, '/mailbox/setAutomaticReplies', {
    status: 'scheduled',
    start: {
      dateTime: start.setZone('Europe/Berlin').toFormat("yyyy-MM-dd'T'HH:mm:ss"),
      timeZone: 'Europe/Berlin',
    },
    end: end.toISO(),
    internalMessage: 'I am out until Monday.',
    externalAudience: 'none',
    timeZone: 'Europe/Berlin',
  });
  expect(set).toMatchObject({
    status: 'scheduled',
    internalMessage: 'I am out until Monday.',
    externalAudience: 'none',
    start: { timeZone: 'Europe/Berlin', utc: start.toISO({ suppressMilliseconds: true }) },
    end: { utc: end.toISO({ suppressMilliseconds: true }) },
  });
  expect((await ok(adele, '/mailbox/getSettings', {})).automaticReplies).toMatchObject({
    status: 'scheduled',
  });

  await sendMailAs(t.sandbox, MEGAN, ADELE, 'Before the window');
  await advance(2 * 3600);
  await sendMailAs(t.sandbox, MEGAN, ADELE, 'Inside the window');
  await sendMailAs(t.sandbox, MEGAN, ADELE, 'Inside, again');
  await advance(2 * 3600);
  await sendMailAs(t.sandbox, LEE, ADELE, 'After the window');

  const toMegan = (await messages(megan)).filter((m) => String(m.subject).startsWith('Automatic reply'));
  expect(subjects(toMegan)).toEqual(['Automatic reply: Inside the window']);
  expect(toMegan[0]!.from).toMatchObject({ address: ADELE });
  expect(subjects(await messages(lee)).filter((s) => s.startsWith('Automatic reply'))).toEqual([]);

  const off = await ok(adele, '/mailbox/setAutomaticReplies', { status: 'disabled' });
  expect(off.status).toBe('disabled');
});

test('bad schedules are 400 naming the field, before anything reaches Microsoft', async () => {
  const missing = await call(adele, '/mailbox/setAutomaticReplies', { status: 'scheduled' });
  expect(missing.status).toBe(400);
  expect(JSON.stringify(missing.body.errors)).toContain('start');
  const backwards = await call(adele, '/mailbox/setAutomaticReplies', {
    status: 'scheduled',
    start: '2030-01-02T00:00:00Z',
    end: '2030-01-01T00:00:00Z',
  });
  expect(backwards.status).toBe(400);
  expect(JSON.stringify(backwards.body.errors)).toContain('end');
  const hours = await call(adele, '/mailbox/setWorkingHours', {
    daysOfWeek: ['monday'],
    startTime: '18:00',
    endTime: '09:00',
  });
  expect(hours.status).toBe(400);
});

test('working hours, time zone and formats are set and read back', async () => {
  const hours = await ok(lee, '/mailbox/setWorkingHours', {
    daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday'],
    startTime: '08:30',
    endTime: '16:00',
    timeZone: 'Europe/Berlin',
  });
  expect(hours).toEqual({
    daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday'],
    startTime: '08:30',
    endTime: '16:00',
    timeZone: 'W. Europe Standard Time',
  });
  const settings = await ok(lee, '/mailbox/updateSettings', {
    language: 'de-DE',
    dateFormat: 'dd.MM.yyyy',
    timeFormat: 'HH:mm',
  });
  expect(settings).toMatchObject({
    timeZone: 'W. Europe Standard Time',
    language: { locale: 'de-DE' },
    dateFormat: 'dd.MM.yyyy',
    timeFormat: 'HH:mm',
    workingHours: { startTime: '08:30' },
  });
  const empty = await call(lee, '/mailbox/updateSettings', {});
  expect(empty.status).toBe(400);
});

test('a rule moving mail from a sender works on the next arriving mail; its categories carry their colours', async () => {
  const created = await ok(lee, '/mail/createCategory', { name: 'Newsletters', color: 'teal' });
  expect(created).toMatchObject({ name: 'Newsletters', color: 'teal', preset: 'preset5' });
  const listed = await ok(lee, '/mail/listCategories');
  expect(listed.items).toEqual(
    expect.arrayContaining([expect.objectContaining({ name: 'Newsletters', color: 'teal' })]),
  );
  expect((await call(lee, '/mail/createCategory', { name: 'newsletters' })).status).toBe(409);

  await sendMailAs(t.sandbox, MEGAN, LEE, 'Newsletter #1 (before the rule)');
  const folder = await ok(lee, '/mail/createFolder', { name: 'Newsletters' });
  const rule = await ok(lee, '/mail/createRule', {
    name: 'Megan newsletters',
    conditions: { from: [MEGAN], subjectContains: ['newsletter'] },
    actions: { moveToFolder: folder.id, assignCategories: ['Newsletters'], markAsRead: true },
  });
  expect(rule).toMatchObject({
    name: 'Megan newsletters',
    enabled: true,
    conditions: { from: [MEGAN], subjectContains: ['newsletter'] },
    actions: { moveToFolder: folder.id, assignCategories: ['Newsletters'], markAsRead: true },
  });
  await sendMailAs(t.sandbox, MEGAN, LEE, 'Newsletter #2');
  await sendMailAs(t.sandbox, ADELE, LEE, 'Newsletter from Adele');

  const moved = await messages(lee, folder.id as string);
  expect(moved.map((m) => ({ subject: m.subject, isRead: m.isRead, categories: m.categories }))).toEqual([
    { subject: 'Newsletter #2', isRead: true, categories: ['Newsletters'] },
  ]);
  // Mail received before the rule, and mail from others, stay in the Inbox.
  expect(subjects(await messages(lee))).toEqual(
    expect.arrayContaining(['Newsletter #1 (before the rule)', 'Newsletter from Adele']),
  );
  const colour = new Map(
    ((await ok(lee, '/mail/listCategories')).items as Json[]).map((c) => [c.name, c.color]),
  );
  expect(colour.get(moved[0]!.categories[0])).toBe('teal');

  const archiveRule = await ok(lee, '/mail/createRule', {
    name: 'Invoices to the archive',
    conditions: { subjectContains: ['invoice'] },
    actions: { moveToFolder: 'archive' },
  });
  expect(archiveRule.sequence).toBeGreaterThan(rule.sequence as number);
  expect(archiveRule.actions.moveToFolder).not.toBe('archive');
  const off = await ok(lee, '/mail/updateRule', { id: rule.id, enabled: false });
  expect(off.enabled).toBe(false);
  await sendMailAs(t.sandbox, MEGAN, LEE, 'Newsletter #3');
  expect(subjects(await messages(lee))).toContain('Newsletter #3');
  expect((await ok(lee, '/mail/listRules')).items.map((r: Json) => String(r.name))).toEqual([
    'Megan newsletters',
    'Invoices to the archive',
  ]);
  expect(await ok(lee, '/mail/deleteRule', { id: archiveRule.id })).toEqual({ deleted: true });
  const noFolder = await call(lee, '/mail/createRule', {
    name: 'x',
    actions: { moveToFolder: 'no-such-folder' },
  });
  expect(noFolder.status).toBe(400);
  const noAction = await call(lee, '/mail/createRule', { name: 'x', actions: {} });
  expect(noAction.status).toBe(400);
});

test('a mail scheduled for 08:00 tomorrow Europe/Berlin goes out when the sandbox clock gets there, not before; a cancelled one never', async () => {
  const berlin = (await sandboxNow()).setZone('Europe/Berlin');
  const eight = berlin.plus({ days: 1 }).set({ hour: 8, minute: 0, second: 0, millisecond: 0 });
  const sendAt = { dateTime: eight.toFormat("yyyy-MM-dd'T'HH:mm:ss"), timeZone: 'Europe/Berlin' };
  const scheduled = await ok(adele, '/mail/sendMessage', {
    to: [MEGAN],
    subject: 'Good morning',
    body: 'At eight',
    sendAt,
  });
  expect(scheduled).toMatchObject({ sent: true, method: 'deferred', messageId: expect.any(String) });
  expect(scheduled.scheduledFor).toBe(eight.toUTC().toISO());
  const cancelled = await ok(adele, '/mail/sendMessage', {
    to: [MEGAN],
    subject: 'Never mind',
    body: 'x',
    sendAt,
  });
  const draft = await ok(adele, '/mail/createDraft', { to: [MEGAN], subject: 'Draft at eight', body: 'y' });
  const fromDraft = await ok(adele, '/mail/sendDraft', { id: draft.id, sendAt });
  expect(fromDraft.scheduledFor).toBe(eight.toUTC().toISO());

  // A minute before eight: nothing has gone.
  await advance(Math.floor(eight.diff(berlin, 'seconds').seconds) - 60);
  expect(
    subjects(await messages(megan)).filter((s) =>
      ['Good morning', 'Never mind', 'Draft at eight'].includes(s),
    ),
  ).toEqual([]);
  expect(await ok(adele, '/mail/cancelSend', { messageId: cancelled.messageId })).toEqual({
    cancelled: true,
    messageId: cancelled.messageId,
  });

  await advance(120);
  const arrived = subjects(await messages(megan));
  expect(arrived).toEqual(expect.arrayContaining(['Good morning', 'Draft at eight']));
  expect(arrived).not.toContain('Never mind');
  expect(subjects(await messages(adele, 'sentitems'))).not.toContain('Never mind');
  const late = await call(adele, '/mail/cancelSend', { messageId: scheduled.messageId });
  expect(late.status).toBe(409);

  const past = await call(adele, '/mail/sendMessage', {
    to: [MEGAN],
    subject: 'x',
    body: 'x',
    sendAt: '2020-01-01T08:00:00Z',
  });
  expect(past.status).toBe(400);
  expect(JSON.stringify(past.body.errors)).toContain('sendAt');
});

test('MailTips name the out-of-office colleague (with their reply) and the external recipient', async () => {
  await ok(lee, '/mailbox/setAutomaticReplies', {
    status: 'alwaysEnabled',
    internalMessage: '<p>On parental leave.</p>',
  });
  const tips = await ok(megan, '/mail/getMailTips', {
    recipients: [LEE, ADELE, PAT],
    timeZone: 'Europe/Berlin',
  });
  expect(tips.items).toEqual([
    expect.objectContaining({
      address: LEE,
      outOfOffice: true,
      automaticReply: 'On parental leave.',
      external: false,
    }),
    expect.objectContaining({ address: ADELE, outOfOffice: false, external: false, mailboxFull: false }),
    expect.objectContaining({ address: PAT, outOfOffice: false, external: true }),
  ]);
  expect(tips.items[0].maxMessageSizeBytes).toBeGreaterThan(0);
  await ok(lee, '/mailbox/setAutomaticReplies', { status: 'disabled' });
});

test('Focused Inbox: mail from a sender goes to Other from now on', async () => {
  const set = await ok(megan, '/mail/setFocused', { sender: ADELE, classifyAs: 'other' });
  expect(set).toMatchObject({ sender: ADELE, classifyAs: 'other', overrideId: expect.any(String) });
  await sendMailAs(t.sandbox, ADELE, MEGAN, 'Promotional');
  // What Outlook shows: the message as Graph has it.
  const token = await mintToken(t.sandbox, MEGAN, ['Mail.Read']);
  const res = await fetch(
    `${t.sandbox.graphBaseUrl}/me/messages?$filter=${encodeURIComponent("subject eq 'Promotional'")}&$select=inferenceClassification`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  expect(((await res.json()) as Json).value).toEqual([
    expect.objectContaining({ inferenceClassification: 'other' }),
  ]);
});

test('the MIME source of a message carries its headers and body', async () => {
  await sendMailAs(t.sandbox, ADELE, MEGAN, 'Source please', 'Body of the source');
  const m = (await messages(megan)).find((x) => x.subject === 'Source please')!;
  const mime = await ok(megan, '/mail/getMime', { id: m.id });
  expect(mime.sizeBytes).toBeGreaterThan(0);
  expect(mime.mime).toMatch(/^From: .*adele\.vance@contoso\.test/m);
  expect(mime.mime).toMatch(/^Subject: Source please/m);
  expect(mime.mime).toContain(Buffer.from('Body of the source').toString('base64'));
});

test('without the mailbox-settings feature the settings actions say which consent is missing', async () => {
  const res = await call(megan, '/mailbox/setAutomaticReplies', { status: 'disabled' });
  expect(res.status).toBe(403);
  expect(JSON.stringify(res.body)).toContain('mailbox-settings');
});

test('a rule that forwards mail outside the organization goes through the send policy', async () => {
  const policy = await t.call(lee, 'PUT', '/connections/me/send-policy', { confirm: ['external'] });
  expect(policy.status).toBe(200);
  try {
    const forward = { name: 'Everything to Pat', actions: { forwardTo: [PAT] } };
    const asked = await call(lee, '/mail/createRule', forward);
    expect(asked.status).toBe(409);
    expect(asked.body).toMatchObject({ code: 'confirmation_required' });
    expect(JSON.stringify(asked.body)).toContain(PAT);
    expect((await ok(lee, '/mail/listRules')).items.map((r: Json) => String(r.name))).not.toContain(
      'Everything to Pat',
    );
    // Inside the organization needs no confirmation.
    const internal = await ok(lee, '/mail/createRule', {
      name: 'Copies to Adele',
      actions: { forwardTo: [ADELE] },
    });
    expect(internal.actions.forwardTo).toEqual([ADELE]);
  } finally {
    await t.call(lee, 'PUT', '/connections/me/send-policy', { confirm: [] });
  }
});
