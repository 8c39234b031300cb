/**
 * Event attachments (issue 23): list, add any size, download streamed. Graph treats an event's
 * attachments as a message's (event-list-attachments.md, event-post-attachments.md,
 * https://learn.microsoft.com/graph/outlook-large-attachments: "an Outlook message or event
 * item"), so the upload (one POST under 3 MB, an upload session in ranges above) and the
 * streamed download are mail's (shared/services/mail/upload.ts). Events take up to 150 MB.
 */
import { z } from 'zod';
import { decodeCursor, toPage } from '../../actions/cursor';
import { pageOf, untrusted } from '../../actions/output';
import { defineAction } from '../../actions/registry';
import { seg } from '../../graph/client';
import { idField as id, toAttachment } from '../mail/common';
import { AttachedOut, attachRequestBody, streamAttachment, uploadFields } from '../mail/upload';
import { cursor, mailboxPath, notShared, otherUser } from './common';

const EventAttachmentOut = z.object({
  id: z.string(),
  name: untrusted(z.string(), 'event'),
  contentType: z.string().nullable(),
  size: z.number().nullable(),
  isInline: z.boolean(),
  kind: z.string().describe('fileAttachment, itemAttachment or referenceAttachment.'),
});

// https://learn.microsoft.com/graph/api/event-list-attachments
defineAction({
  id: 'calendar.listEventAttachments',
  service: 'calendar',
  summary: "List an event's attachments",
  description:
    'Lists the files attached to an event (id, name, contentType, size in bytes, isInline, kind) without their content; with user, of an event in a colleague’s shared calendar. Download one with calendar.downloadEventAttachment.',
  input: z
    .object({
      eventId: id('The event id (a series master or an exception; occurrences share their series’ files).'),
      user: otherUser,
      cursor,
    })
    .strict(),
  output: pageOf(EventAttachmentOut),
  feature: 'calendar',
  scopes: ['Calendars.Read'],
  kind: 'read',
  idempotent: true,
  toGraph: (input) =>
    input.cursor
      ? { method: 'GET', url: decodeCursor('calendar.listEventAttachments', input.cursor) }
      : {
          method: 'GET',
          url: `${mailboxPath(input.user)}/events/${seg(input.eventId)}/attachments`,
          query: { $select: 'id,name,contentType,size,isInline,lastModifiedDateTime' },
        },
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.eventId);
    return toPage('calendar.listEventAttachments', res.body, toAttachment);
  },
  mapError: (err, input) => notShared(err, input.user),
});

// https://learn.microsoft.com/graph/outlook-large-attachments
defineAction({
  id: 'calendar.addEventAttachment',
  service: 'calendar',
  summary: 'Attach a file of any size to an event',
  description:
    'Attaches the raw request body (streamed, any size up to 150 MB) to an event the user owns, e.g. the agenda of a meeting. Parameters come from the query string: eventId, name, contentType, size (or Content-Length). Files under 3 MB go in one request, larger ones through an upload session in ranges under 4 MB. Returns {attachmentId, size, method}.',
  input: z
    .object({
      eventId: id('The event id.'),
      ...uploadFields,
    })
    .strict(),
  output: AttachedOut,
  feature: 'calendar',
  scopes: ['Calendars.ReadWrite'],
  kind: 'write',
  idempotent: false,
  streamBody: true,
  successStatus: 201,
  run: async (input, ctx) => {
    ctx.targets.push(input.eventId);
    return await attachRequestBody(ctx, `/me/events/${seg(input.eventId)}`, {
      name: input.name,
      contentType: input.contentType,
      size: input.size,
    });
  },
});

// https://learn.microsoft.com/graph/api/attachment-get (raw contents via /$value)
defineAction({
  id: 'calendar.downloadEventAttachment',
  service: 'calendar',
  summary: "Download an event's attachment",
  description:
    'Streams the raw bytes of a file attached to an event with its content type and file name (Content-Disposition). Called with GET and query parameters eventId, attachmentId (and user for a colleague’s shared calendar).',
  input: z
    .object({
      eventId: id('The event id.'),
      attachmentId: id('The attachment id (from calendar.listEventAttachments).'),
      user: otherUser,
    })
    .strict(),
  feature: 'calendar',
  scopes: ['Calendars.Read'],
  kind: 'read',
  idempotent: true,
  httpMethod: 'GET',
  run: async (input, ctx) => {
    ctx.targets.push(input.eventId, input.attachmentId);
    return await streamAttachment(
      ctx,
      `${mailboxPath(input.user)}/events/${seg(input.eventId)}/attachments/${seg(input.attachmentId)}`,
    );
  },
  mapError: (err, input) => notShared(err, input.user),
});
