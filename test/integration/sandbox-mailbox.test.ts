/**
 * The sandbox's mailbox settings and mail management through the real Graph client: PATCH
 * mailboxSettings with its validation, automatic replies really sent (once per sender, the
 * audience rules, the schedule on the sandbox clock), MailTips, master categories, Inbox rules
 * applied to arriving mail, and Focused Inbox overrides (sandbox/graph/mailbox/).
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import type { Sandbox } from '../../sandbox';
import {
  controlCall,
  graphClientFor,
  graphFailure,
  mintToken,
  sendMailAs,
  startTestSandbox,
} from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const LEE = 'lee.gu@contoso.test';
const PAT = 'pat@fabrikam.test';

let sandbox: Sandbox;
const clients = new Map<string, Client>();

async function client(upn: string): Promise<Client> {
  if (!clients.has(upn)) {
    const token = await mintToken(
      sandbox,
      upn,
      ['MailboxSettings.ReadWrite', 'Mail.ReadWrite', 'Mail.Send', 'Contacts.ReadWrite'],
      { lifetimeSeconds: 30 * 86400 },
    ); // the tests move the sandbox clock by hours
    clients.set(upn, graphClientFor(sandbox, token));
  }
  return clients.get(upn)!;
}

async function inbox(upn: string, folder = 'inbox'): Promise<Json[]> {
  const res = (await (
    await client(upn)
  )
    .api(`/me/mailFolders/${folder}/messages`)
    .select('subject,from,isRead,categories,importance,inferenceClassification,internetMessageHeaders')
    .top(100)
    .get()) as { value: Json[] };
  return res.value;
}

const subjects = (messages: Json[]) => messages.map((m) => String(m.subject));

async function sandboxNow(): Promise<number> {
  return Date.parse((await controlCall<{ now: string }>(sandbox, 'GET', '/clock')).now);
}

beforeAll(async () => {
  sandbox = await startTestSandbox({ seed: true });
  sandbox.directory.addUser({
    userPrincipalName: PAT,
    displayName: 'Pat Fabrikam',
    tenantId: 'b3f0c1d2-0000-4000-8000-00000000fab1',
  });
});
afterAll(async () => await sandbox.stop());

describe('mailbox settings', () => {
  test('PATCH sets what it is given and answers it; GET shows it, with the rest unchanged', async () => {
    const lee = await client(LEE);
    const answer = (await lee.api('/me/mailboxSettings').patch({
      timeZone: 'Europe/Berlin',
      dateFormat: 'dd.MM.yyyy',
      timeFormat: 'HH:mm',
      language: { locale: 'de-DE' },
      workingHours: {
        daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday'],
        startTime: '08:30:00.0000000',
        endTime: '16:00:00.0000000',
        timeZone: { name: 'W. Europe Standard Time' },
      },
    })) as Json;
    expect(answer).toMatchObject({
      timeZone: 'W. Europe Standard Time',
      dateFormat: 'dd.MM.yyyy',
      language: { locale: 'de-DE', displayName: 'German (Germany)' },
      workingHours: {
        daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday'],
        startTime: '08:30:00.0000000',
      },
    });
    expect(answer.automaticRepliesSetting).toBeUndefined();
    const read = (await lee.api('/me/mailboxSettings').get()) as Json;
    expect(read).toMatchObject({
      timeFormat: 'HH:mm',
      automaticRepliesSetting: { status: 'disabled' },
      userPurpose: 'user',
    });
    // Calendar availability follows the new working hours and zone (the same directory entry).
    expect(sandbox.directory.findUser(LEE)).toMatchObject({ timeZone: 'Europe/Berlin' });
  });

  test('bad values are 400 with Graph codes, and change nothing', async () => {
    const lee = await client(LEE);
    const before = (await lee.api('/me/mailboxSettings').get()) as Json;
    const cases: Array<[Json, number, string]> = [
      [{ automaticRepliesSetting: { status: 'sometimes' } }, 400, 'RequestBodyRead'],
      [{ colour: 'blue' }, 400, 'RequestBodyRead'],
      [{ timeZone: 'Mars/Olympus' }, 400, 'TimeZoneNotSupportedException'],
      [{ userPurpose: 'shared' }, 400, 'ErrorInvalidRequest'],
      [
        {
          automaticRepliesSetting: {
            status: 'scheduled',
            scheduledStartDateTime: { dateTime: '2030-01-02T00:00:00', timeZone: 'UTC' },
            scheduledEndDateTime: { dateTime: '2030-01-01T00:00:00', timeZone: 'UTC' },
          },
        },
        400,
        'ErrorInvalidRequest',
      ],
      [{ workingHours: { startTime: '18:00:00', endTime: '09:00:00' } }, 400, 'ErrorInvalidRequest'],
      [{ workingHours: { daysOfWeek: ['someday'] } }, 400, 'RequestBodyRead'],
      [{ dateFormat: 'yyyy-MM-dd HH:mm' }, 400, 'ErrorInvalidRequest'],
      [{ language: { locale: 'xx' } }, 400, 'ErrorInvalidRequest'],
    ];
    for (const [body, status, code] of cases) {
      const err = await graphFailure(lee.api('/me/mailboxSettings').patch(body));
      expect({ body, status: err.statusCode, code: err.code }).toEqual({ body, status, code });
    }
    expect(await lee.api('/me/mailboxSettings').get()).toEqual(before);
  });

  test('reading needs MailboxSettings.Read; writing needs MailboxSettings.ReadWrite', async () => {
    const readOnly = graphClientFor(sandbox, await mintToken(sandbox, MEGAN, ['MailboxSettings.Read']));
    await expect(readOnly.api('/me/mailboxSettings').get()).resolves.toMatchObject({
      timeZone: expect.any(String),
    });
    const err = await graphFailure(readOnly.api('/me/mailboxSettings').patch({ timeFormat: 'HH:mm' }));
    expect(err.statusCode).toBe(403);
  });
});

describe('automatic replies', () => {
  test('scheduled: one reply per sender inside the window, none before it or after it', async () => {
    const adele = await client(ADELE);
    const now = await sandboxNow();
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19);
    await adele.api('/me/mailboxSettings').patch({
      automaticRepliesSetting: {
        status: 'scheduled',
        externalAudience: 'none',
        internalReplyMessage: '<p>Away until Monday.</p>',
        externalReplyMessage: '<p>External away.</p>',
        scheduledStartDateTime: { dateTime: iso(now + 3600_000), timeZone: 'UTC' },
        scheduledEndDateTime: { dateTime: iso(now + 3 * 3600_000), timeZone: 'UTC' },
      },
    });
    await sendMailAs(sandbox, MEGAN, ADELE, 'Before the window');
    await controlCall(sandbox, 'POST', '/clock', { advanceSeconds: 2 * 3600 });
    await sendMailAs(sandbox, MEGAN, ADELE, 'Inside the window');
    await sendMailAs(sandbox, MEGAN, ADELE, 'Inside again');
    await sendMailAs(sandbox, PAT, ADELE, 'From outside');
    await controlCall(sandbox, 'POST', '/clock', { advanceSeconds: 2 * 3600 });
    await sendMailAs(sandbox, LEE, ADELE, 'After the window');

    const replies = (await inbox(MEGAN)).filter((m) => String(m.subject).startsWith('Automatic reply'));
    expect(subjects(replies)).toEqual(['Automatic reply: Inside the window']);
    expect(replies[0]!.from.emailAddress.address).toBe(ADELE);
    expect(replies[0]!.internetMessageHeaders).toEqual(
      expect.arrayContaining([{ name: 'Auto-Submitted', value: 'auto-replied' }]),
    );
    // externalAudience none: nothing to the other tenant; Lee wrote after the window.
    expect(subjects(await inbox(PAT)).filter((s) => s.startsWith('Automatic reply'))).toEqual([]);
    expect(subjects(await inbox(LEE)).filter((s) => s.startsWith('Automatic reply'))).toEqual([]);
    // Nothing of it in Adele's Sent Items.
    expect(subjects(await inbox(ADELE, 'sentitems')).filter((s) => s.startsWith('Automatic reply'))).toEqual(
      [],
    );
  });

  test('alwaysEnabled with externalAudience all answers outside senders with the external message; replies are never answered', async () => {
    const megan = await client(MEGAN);
    await megan.api('/me/mailboxSettings').patch({
      automaticRepliesSetting: {
        status: 'alwaysEnabled',
        externalAudience: 'all',
        externalReplyMessage: 'Out (external)',
        internalReplyMessage: 'Out (internal)',
      },
    });
    // Lee also replies automatically: their two automatic replies must not answer each other.
    await (
      await client(LEE)
    )
      .api('/me/mailboxSettings')
      .patch({ automaticRepliesSetting: { status: 'alwaysEnabled', internalReplyMessage: 'Lee is out' } });
    await sendMailAs(sandbox, PAT, MEGAN, 'Hello from Fabrikam');
    await sendMailAs(sandbox, LEE, MEGAN, 'Hello from Lee');
    const patReplies = (await inbox(PAT)).filter((m) => String(m.subject).startsWith('Automatic reply'));
    expect(patReplies).toHaveLength(1);
    const toLee = (await inbox(LEE)).filter((m) => String(m.subject).startsWith('Automatic reply'));
    expect(subjects(toLee)).toEqual(['Automatic reply: Hello from Lee']);
    const toMegan = (await inbox(MEGAN)).filter((m) =>
      String(m.subject).startsWith('Automatic reply: Automatic reply'),
    );
    expect(toMegan).toEqual([]);
    await megan.api('/me/mailboxSettings').patch({ automaticRepliesSetting: { status: 'disabled' } });
    await (
      await client(LEE)
    )
      .api('/me/mailboxSettings')
      .patch({ automaticRepliesSetting: { status: 'disabled' } });
  });

  test('MailTips: the automatic reply of an absent colleague, an external recipient, an unknown one, a full mailbox', async () => {
    const adele = await client(ADELE);
    await (await client(MEGAN)).api('/me/mailboxSettings').patch({
      automaticRepliesSetting: { status: 'alwaysEnabled', internalReplyMessage: 'On leave' },
    });
    await controlCall(sandbox, 'PUT', `/mailbox/${encodeURIComponent(LEE)}/full`, { full: true });
    const tips = (await adele.api('/me/getMailTips').post({
      EmailAddresses: [MEGAN, LEE, 'someone@partner.example', 'nobody@contoso.test'],
      MailTipsOptions: 'automaticReplies, mailboxFullStatus, recipientScope, maxMessageSize',
    })) as { value: Json[] };
    expect(tips.value).toEqual([
      expect.objectContaining({
        automaticReplies: expect.objectContaining({ message: 'On leave' }),
        recipientScope: 'internal',
        mailboxFull: false,
      }),
      expect.objectContaining({
        automaticReplies: { message: '' },
        mailboxFull: true,
        maxMessageSize: 35 * 1024 * 1024,
      }),
      expect.objectContaining({ recipientScope: 'external', automaticReplies: { message: '' } }),
      expect.objectContaining({ error: expect.objectContaining({ code: 'UnableToFindRecipient' }) }),
    ]);
    const bad = await graphFailure(
      adele.api('/me/getMailTips').post({ EmailAddresses: [MEGAN], MailTipsOptions: 'weather' }),
    );
    expect(bad.statusCode).toBe(400);
    await (
      await client(MEGAN)
    )
      .api('/me/mailboxSettings')
      .patch({ automaticRepliesSetting: { status: 'disabled' } });
    await controlCall(sandbox, 'PUT', `/mailbox/${encodeURIComponent(LEE)}/full`, { full: false });
  });
});

describe('categories, rules and Focused Inbox', () => {
  test('the master list starts with Outlook six colours; names are unique and fixed, colours change', async () => {
    const lee = await client(LEE);
    const list = (await lee.api('/me/outlook/masterCategories').get()) as { value: Json[] };
    expect(list.value.map((c) => String(c.displayName))).toEqual(
      expect.arrayContaining(['Red category', 'Blue category']),
    );
    const created = (await lee
      .api('/me/outlook/masterCategories')
      .post({ displayName: 'Newsletters', color: 'preset9' })) as Json;
    expect(created).toMatchObject({ id: expect.any(String), displayName: 'Newsletters', color: 'preset9' });
    expect(
      (await graphFailure(lee.api('/me/outlook/masterCategories').post({ displayName: 'newsletters' })))
        .statusCode,
    ).toBe(409);
    expect(
      (
        await graphFailure(
          lee.api('/me/outlook/masterCategories').post({ displayName: 'X', color: 'preset25' }),
        )
      ).code,
    ).toBe('RequestBodyRead');
    const changed = (await lee
      .api(`/me/outlook/masterCategories/${created.id}`)
      .patch({ color: 'preset4' })) as Json;
    expect(changed.color).toBe('preset4');
    expect(
      (
        await graphFailure(
          lee.api(`/me/outlook/masterCategories/${created.id}`).patch({ displayName: 'Other' }),
        )
      ).statusCode,
    ).toBe(400);
    const readOnly = graphClientFor(sandbox, await mintToken(sandbox, LEE, ['MailboxSettings.Read']));
    expect(
      (await graphFailure(readOnly.api('/me/outlook/masterCategories').post({ displayName: 'Nope' })))
        .statusCode,
    ).toBe(403);
  });

  test('rules run in sequence on arriving mail: move, categorize, mark read, stop; exceptions hold a message back', async () => {
    const lee = await client(LEE);
    const folder = (await lee.api('/me/mailFolders').post({ displayName: 'Newsletters' })) as Json;
    const rule = (await lee.api('/me/mailFolders/inbox/messageRules').post({
      displayName: 'Newsletters from Megan',
      sequence: 2,
      isEnabled: true,
      conditions: { fromAddresses: [{ emailAddress: { address: MEGAN } }], subjectContains: ['newsletter'] },
      exceptions: { subjectContains: ['urgent'] },
      actions: {
        moveToFolder: folder.id,
        assignCategories: ['Newsletters'],
        markAsRead: true,
        stopProcessingRules: true,
      },
    })) as Json;
    expect(rule).toMatchObject({ sequence: 2, isEnabled: true, hasError: false, isReadOnly: false });
    await lee.api('/me/mailFolders/inbox/messageRules').post({
      displayName: 'Everything from Megan is important',
      sequence: 5,
      conditions: { senderContains: ['megan'] },
      actions: { markImportance: 'high' },
    });
    await sendMailAs(sandbox, MEGAN, LEE, 'Weekly Newsletter #12');
    await sendMailAs(sandbox, MEGAN, LEE, 'Urgent newsletter correction');
    await sendMailAs(sandbox, ADELE, LEE, 'A newsletter from Adele');

    const moved = await inbox(LEE, folder.id as string);
    expect(
      moved.map((m) => ({
        subject: m.subject,
        isRead: m.isRead,
        categories: m.categories,
        importance: m.importance,
      })),
    ).toEqual([
      { subject: 'Weekly Newsletter #12', isRead: true, categories: ['Newsletters'], importance: 'normal' },
    ]);
    const kept = await inbox(LEE);
    expect(kept.find((m) => m.subject === 'Urgent newsletter correction')).toMatchObject({
      importance: 'high',
      isRead: false,
    });
    expect(kept.find((m) => m.subject === 'A newsletter from Adele')).toMatchObject({ importance: 'normal' });
    expect(subjects(kept)).not.toContain('Weekly Newsletter #12');

    // Disabled, the rule does nothing; deleted, it is gone.
    await lee.api(`/me/mailFolders/inbox/messageRules/${rule.id}`).patch({ isEnabled: false });
    await sendMailAs(sandbox, MEGAN, LEE, 'Newsletter #13');
    expect(subjects(await inbox(LEE))).toContain('Newsletter #13');
    await lee.api(`/me/mailFolders/inbox/messageRules/${rule.id}`).delete();
    const rules = (await lee.api('/me/mailFolders/inbox/messageRules').get()) as { value: Json[] };
    expect(rules.value.map((r) => String(r.displayName))).toEqual(['Everything from Megan is important']);
  });

  test('rule bodies are validated: no action, unknown folder, unknown predicate', async () => {
    const lee = await client(LEE);
    const post = (body: Json) => graphFailure(lee.api('/me/mailFolders/inbox/messageRules').post(body));
    expect((await post({ displayName: 'x', sequence: 1, conditions: { subjectContains: ['a'] } })).code).toBe(
      'ErrorInvalidRequest',
    );
    expect(
      (await post({ displayName: 'x', sequence: 1, actions: { moveToFolder: 'AAMkNoSuchFolder' } })).code,
    ).toBe('ErrorInvalidRequest');
    expect(
      (
        await post({
          displayName: 'x',
          sequence: 1,
          conditions: { mood: ['a'] },
          actions: { markAsRead: true },
        })
      ).code,
    ).toBe('RequestBodyRead');
    expect((await post({ sequence: 1, actions: { markAsRead: true } })).code).toBe('ErrorInvalidRequest');
  });

  test('forwarding and redirecting rules send the mail on, once (no rule loops)', async () => {
    const adele = await client(ADELE);
    await adele.api('/me/mailFolders/inbox/messageRules').post({
      displayName: 'Invoices to Lee',
      sequence: 1,
      conditions: { subjectContains: ['invoice'] },
      actions: { forwardTo: [{ emailAddress: { address: LEE } }] },
    });
    await (await client(LEE)).api('/me/mailFolders/inbox/messageRules').post({
      displayName: 'Invoices back to Adele',
      sequence: 1,
      conditions: { subjectContains: ['invoice'] },
      actions: { redirectTo: [{ emailAddress: { address: ADELE } }] },
    });
    await sendMailAs(sandbox, MEGAN, ADELE, 'Invoice 4711');
    expect(subjects(await inbox(LEE)).filter((s) => s.includes('Invoice 4711'))).toEqual([
      'FW: Invoice 4711',
    ]);
    // Lee's redirect does not run on mail a rule already sent on: Adele has only the original.
    expect(subjects(await inbox(ADELE)).filter((s) => s.includes('Invoice 4711'))).toEqual(['Invoice 4711']);
  });

  test('a Focused Inbox override classifies later mail from the sender', async () => {
    const megan = await client(MEGAN);
    const created = (await megan.api('/me/inferenceClassification/overrides').post({
      classifyAs: 'other',
      senderEmailAddress: { name: 'Lee Gu', address: LEE },
    })) as Json;
    expect(created).toMatchObject({ classifyAs: 'other', senderEmailAddress: { address: LEE } });
    await sendMailAs(sandbox, LEE, MEGAN, 'Promo from Lee');
    expect((await inbox(MEGAN)).find((m) => m.subject === 'Promo from Lee')).toMatchObject({
      inferenceClassification: 'other',
    });
    // A second override for the same sender updates the first.
    await megan
      .api('/me/inferenceClassification/overrides')
      .post({ classifyAs: 'focused', senderEmailAddress: { address: LEE } });
    const all = (await megan.api('/me/inferenceClassification/overrides').get()) as { value: Json[] };
    expect(all.value).toEqual([expect.objectContaining({ id: created.id, classifyAs: 'focused' })]);
  });
});
