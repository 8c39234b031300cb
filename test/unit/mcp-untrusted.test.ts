/**
 * The untrusted-text envelope of MCP results (shared/mcp/untrusted.ts), on real output schemas:
 * marked strings are wrapped with the id of the item holding them, nulls and unmarked fields stay
 * as they are, and the published schema describes exactly what comes out.
 */
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import '../../shared/services/all';
import { outputSchema } from '../../shared/actions/openapi';
import { getAction } from '../../shared/actions/registry';
import { envelopeSchema, envelopeUntrusted } from '../../shared/mcp/untrusted';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const event = {
  id: 'AAMkEvent1',
  type: 'singleInstance',
  seriesMasterId: null,
  subject: 'Planning',
  bodyPreview: 'Agenda',
  body: { contentType: 'text', content: 'Please call +1 555 0100' },
  start: { dateTime: '2026-03-02T09:00:00', timeZone: 'Europe/Berlin', utc: '2026-03-02T08:00:00Z' },
  end: { date: '2026-03-03' },
  isAllDay: false,
  originalTimeZone: null,
  location: null,
  attendees: [{ email: 'x@contoso.test', name: 'Pat', type: 'required', response: 'none' }],
  organizer: null,
  isOrganizer: true,
  myResponse: 'organizer',
  recurrence: null,
  onlineMeetingUrl: null,
  showAs: 'busy',
  sensitivity: 'normal',
  importance: 'normal',
  isCancelled: false,
  hasAttachments: false,
  reminderMinutesBeforeStart: 15,
  categories: [],
  webLink: null,
  createdAt: null,
  lastModifiedAt: null,
  changeKey: null,
};

test('marked strings are enveloped with their item id; nulls, unions and unmarked fields are kept', () => {
  const schema = outputSchema(getAction('calendar.getEvent')!);
  const out = envelopeUntrusted(event, schema) as Json;
  const src = 'event:AAMkEvent1';
  expect(out.subject).toEqual({ untrusted: true, source: src, text: 'Planning' });
  expect(out.body).toEqual({
    contentType: 'text',
    content: { untrusted: true, source: src, text: 'Please call +1 555 0100' },
  });
  expect(out.attendees[0].name).toEqual({ untrusted: true, source: src, text: 'Pat' });
  expect(out.attendees[0].email).toBe('x@contoso.test');
  expect(out.location).toBeNull();
  expect(out.organizer).toBeNull();
  expect(out.start).toEqual(event.start);
  expect(out.end).toEqual(event.end);
});

test('the enveloped schema (with the validator MCP clients use) accepts the enveloped result, not the plain one', () => {
  const action = getAction('calendar.getEvent')!;
  const validate = new AjvJsonSchemaValidator().getValidator(envelopeSchema(outputSchema(action)) as never);
  expect(validate(envelopeUntrusted(event, outputSchema(action))).valid).toBe(true);
  expect(validate(event).valid).toBe(false);
});

test('pages: each item is its own source', () => {
  const schema = outputSchema(getAction('teams.listChatMessages')!);
  const message = (id: string, content: string) => ({
    id,
    replyToId: null,
    messageType: 'message',
    createdAt: null,
    lastModifiedAt: null,
    deleted: false,
    subject: null,
    importance: 'normal',
    contentType: 'text',
    content,
    from: { userId: 'u1', displayName: 'Lee', kind: 'user' },
    mentions: [],
    teamId: null,
    channelId: null,
    chatId: 'c1',
    webUrl: null,
  });
  const out = envelopeUntrusted({ items: [message('1', 'hi'), message('2', 'ho')] }, schema) as Json;
  expect((out.items as Json[]).map((m) => String(m.content.source))).toEqual(['teams:1', 'teams:2']);
  expect(out.items[0].from.displayName.text).toBe('Lee');
  expect(out.items[0].subject).toBeNull();
});
