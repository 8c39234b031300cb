/**
 * Attachments of messages and of events, and attachment upload sessions (graph-behaviour.md §8.1,
 * §9; https://learn.microsoft.com/graph/outlook-large-attachments, which covers "an Outlook
 * message or event item" alike: the same routes under /messages/{id} and /events/{id}).
 *
 * - Small files: `POST .../attachments` with base64 `contentBytes` → 201 (the whole request
 *   stays under Graph's 4 MB limit, else 413).
 * - 3 MB to the tenant's message size limit (35 MB by default): `createUploadSession` → 201 with
 *   an `uploadUrl` on `sandbox.preauthBaseUrl` (a host the Graph client does NOT add tokens for;
 *   the URL carries its own `authtoken`). Chunks of at most 4 MB are PUT in order with
 *   `Content-Range`; intermediate answers are 200 with PascalCase `NextExpectedRanges` /
 *   `ExpirationDateTime` (as the docs show), the last one 201, empty, with a `Location` naming
 *   the attachment. `DELETE {uploadUrl}` cancels (204). Under 3 MB → 400
 *   `ErrorAttachmentSizeShouldNotBeLessThanMinimumSize`.
 * - Events take attachments up to 150 MB in all (outlook-large-attachments.md); only stored events
 *   (not an occurrence computed from its series) hold them, and `hasAttachments` follows them.
 */
import type { Ctx } from '../../context';
import { randomBytes } from 'node:crypto';
import type { Sandbox } from '../../context';
import { empty, graphError, json, type SandboxResponse } from '../../http';
import type { SandboxUser } from '../../state';
import { entityResponse, graphRoute, graphState, type GraphCtx, type GraphRouteOptions } from '../core';
import { GraphHttpError, notFound } from '../errors';
import {
  attachmentsOf,
  derived,
  fileAttachmentInput,
  findMessage,
  limitedJson,
  mailState,
  messageSize,
  messageTooLarge,
  refs,
  renderAttachment,
  REQUEST_LIMIT_BYTES,
  storeBlob,
  str,
  UPLOAD_SESSION_MIN_BYTES,
  type AttachmentMeta,
  type UploadSession,
} from './model';
import { collection } from '../paging';
import { graphTimestamp, type ChangeStore, type CollectionRef, type Entity } from '../store';
import { eventsRef, findEvent } from '../calendar/events';
import { canReadShared, canWriteShared } from '../calendar/sharing';

/** An Outlook item that holds attachments: a message or an event. */
interface AttachmentHost {
  /** Collection under the user in Graph paths. */
  path: 'messages' | 'events';
  /** The same collection in the Outlook REST (v2.0) upload URLs. */
  entitySet: 'Messages' | 'Events';
  read: GraphRouteOptions;
  write: GraphRouteOptions;
  ref(store: ChangeStore, userId: string): CollectionRef;
  find(ctx: GraphCtx, id: string): Entity;
  /** Largest size of the item with its attachments. */
  limit(sandbox: Sandbox): number;
  /** Fields recomputed whenever the attachments change. */
  derive(item: Record<string, unknown>): Record<string, unknown>;
}

const EVENT_LIMIT_BYTES = 150 * 1024 * 1024;

const HOSTS: Record<AttachmentHost['path'], AttachmentHost> = {
  messages: {
    path: 'messages',
    entitySet: 'Messages',
    read: { scopes: { anyOf: ['Mail.Read'] } },
    write: { scopes: { anyOf: ['Mail.ReadWrite'] } },
    ref: (store, userId) => refs(store, userId).messages,
    find: (ctx, id) => findMessage(ctx, id),
    limit: (sandbox) => mailState(sandbox).maxMessageSizeBytes,
    derive: derived,
  },
  events: {
    path: 'events',
    entitySet: 'Events',
    // event-list-attachments.md, event-post-attachments.md, attachment-createuploadsession.md.
    // Another user's event: by the sharing role on its calendar, as its other reads (sharing.ts).
    read: { scopes: { anyOf: ['Calendars.Read'] }, otherUsers: canReadShared },
    write: { scopes: { anyOf: ['Calendars.ReadWrite'] }, otherUsers: canWriteShared },
    ref: eventsRef,
    find: (ctx, id) => {
      const { event, stored } = findEvent(ctx.graph.store, (ctx.user as SandboxUser).id, id);
      if (!stored)
        throw new GraphHttpError(
          400,
          'ErrorInvalidRequest',
          'Attachments belong to the series or to an exception, not to an unchanged occurrence.',
        );
      return event;
    },
    limit: () => EVENT_LIMIT_BYTES,
    derive: (e) => ({ hasAttachments: attachmentsOf(e as Entity).some((a) => !a.isInline) }),
  },
};
/** How long an upload URL stays valid (the sandbox's choice; real sessions expire after some hours). */
const SESSION_LIFETIME_MS = 6 * 3600 * 1000;

/** Replaces an item's attachments, keeping its derived fields in step. */
function setAttachments(
  store: ChangeStore,
  host: AttachmentHost,
  userId: string,
  itemId: string,
  change: (current: AttachmentMeta[]) => AttachmentMeta[],
): Entity {
  return store.update(host.ref(store, userId), itemId, (cur) => {
    const updated = { ...cur, _attachments: change(attachmentsOf(cur)) };
    return { ...updated, ...host.derive(updated) };
  }) as Entity;
}

function addAttachment(
  ctx: GraphCtx,
  host: AttachmentHost,
  owner: SandboxUser,
  item: Entity,
  meta: AttachmentMeta,
): Entity {
  const limit = host.limit(ctx.sandbox);
  if (messageSize({ ...item, _attachments: [...attachmentsOf(item), meta] }) > limit)
    throw messageTooLarge(limit);
  return setAttachments(ctx.graph.store, host, owner.id, item.id, (atts) => [...atts, meta]);
}

function findAttachment(message: Entity, id: string): AttachmentMeta {
  const a = attachmentsOf(message).find((x) => x.id === id);
  if (!a) throw notFound('outlook');
  return a;
}

function installAttachmentRoutes(sandbox: Sandbox, host: AttachmentHost): void {
  const base = `/me/${host.path}/:id/attachments`;
  // https://learn.microsoft.com/graph/api/message-list-attachments (event-list-attachments.md)
  graphRoute(sandbox, 'GET', base, host.read, (ctx) => {
    const item = host.find(ctx, ctx.params.id!);
    const list = attachmentsOf(item) as unknown as Array<Record<string, unknown>>;
    return collection(ctx, list, {
      kind: 'outlook',
      supports: { orderby: false },
      render: (a) => renderAttachment(sandbox, a as unknown as AttachmentMeta, { withContent: true }),
    });
  });

  // https://learn.microsoft.com/graph/api/attachment-createuploadsession
  graphRoute(sandbox, 'POST', `${base}/createUploadSession`, host.write, async (ctx) => {
    const owner = ctx.user as SandboxUser;
    const item = host.find(ctx, ctx.params.id!);
    const body = await limitedJson<Record<string, Record<string, unknown> | undefined>>(ctx);
    const attachment = body.AttachmentItem ?? body.attachmentItem;
    if (!attachment || typeof attachment !== 'object') {
      throw new GraphHttpError(400, 'ErrorInvalidRequest', "The 'AttachmentItem' parameter is required.");
    }
    const size = Number(attachment.size);
    if (
      str(attachment.attachmentType, 'file').toLowerCase() !== 'file' ||
      typeof attachment.name !== 'string'
    ) {
      throw new GraphHttpError(
        400,
        'ErrorInvalidRequest',
        "AttachmentItem needs attachmentType 'file' and a name.",
      );
    }
    if (!Number.isInteger(size) || size < 0) {
      throw new GraphHttpError(
        400,
        'ErrorInvalidRequest',
        'AttachmentItem size must be a non-negative integer.',
      );
    }
    if (size < UPLOAD_SESSION_MIN_BYTES) {
      // microsoft-graph-docs#9589: the minimum size for upload sessions.
      throw new GraphHttpError(
        400,
        'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize',
        'Attachment size must be greater than the minimum size.',
      );
    }
    const limit = host.limit(sandbox);
    if (messageSize(item) + size > limit) throw messageTooLarge(limit);
    const session: UploadSession = {
      id: randomBytes(16).toString('hex'),
      token: randomBytes(24).toString('base64url'),
      userId: owner.id,
      host: host.path,
      itemId: item.id,
      name: attachment.name,
      contentType:
        typeof attachment.contentType === 'string' ? attachment.contentType : 'application/octet-stream',
      size,
      isInline: attachment.isInline === true,
      contentId: typeof attachment.contentId === 'string' ? attachment.contentId : null,
      chunks: [],
      received: 0,
      expiresAt: sandbox.now() + SESSION_LIFETIME_MS,
    };
    mailState(sandbox).sessions.set(session.id, session);
    return json(201, {
      '@odata.context': `${sandbox.graphBaseUrl}/$metadata#microsoft.graph.uploadSession`,
      uploadUrl: `${sessionUrl(sandbox, session)}?authtoken=${session.token}`,
      expirationDateTime: graphTimestamp(session.expiresAt),
      nextExpectedRanges: ['0-'],
    });
  });

  // https://learn.microsoft.com/graph/api/message-post-attachments: 201 with the attachment.
  graphRoute(sandbox, 'POST', base, host.write, async (ctx) => {
    const owner = ctx.user as SandboxUser;
    const item = host.find(ctx, ctx.params.id!);
    const { meta } = fileAttachmentInput(await limitedJson(ctx), sandbox);
    addAttachment(ctx, host, owner, item, meta);
    return entityResponse(ctx, renderAttachment(sandbox, meta, { withContent: true }), {
      status: 201,
      context: `users('${owner.id}')/${host.path}('${item.id}')/attachments/$entity`,
    });
  });

  // https://learn.microsoft.com/graph/api/attachment-get: raw bytes with /$value.
  graphRoute(sandbox, 'GET', `${base}/:aid/$value`, host.read, (ctx) => {
    const a = findAttachment(host.find(ctx, ctx.params.id!), ctx.params.aid!);
    const bytes = mailState(sandbox).blobs.get(a.blob) ?? Buffer.alloc(0);
    return { status: 200, headers: { 'content-type': a.contentType }, body: bytes };
  });

  graphRoute(sandbox, 'GET', `${base}/:aid`, host.read, (ctx) => {
    const a = findAttachment(host.find(ctx, ctx.params.id!), ctx.params.aid!);
    const select = ctx.query
      .get('$select')
      ?.split(',')
      .map((s) => s.trim());
    return entityResponse(
      ctx,
      renderAttachment(sandbox, a, { withContent: true, ...(select ? { select } : {}) }),
    );
  });

  // https://learn.microsoft.com/graph/api/attachment-delete: 204.
  graphRoute(sandbox, 'DELETE', `${base}/:aid`, host.write, (ctx) => {
    const owner = ctx.user as SandboxUser;
    const item = host.find(ctx, ctx.params.id!);
    findAttachment(item, ctx.params.aid!);
    setAttachments(ctx.graph.store, host, owner.id, item.id, (atts) =>
      atts.filter((x) => x.id !== ctx.params.aid),
    );
    return empty(204);
  });
}

export function installMailAttachments(sandbox: Sandbox): void {
  for (const host of Object.values(HOSTS)) installAttachmentRoutes(sandbox, host);
  installUploadUrls(sandbox);
}

// ---------------------------------------------------------------- pre-authenticated upload URLs

function sessionUrl(sandbox: Sandbox, s: UploadSession): string {
  return `${sandbox.preauthBaseUrl}/api/v2.0/Users('${s.userId}')/${HOSTS[s.host].entitySet}('${s.itemId}')/AttachmentSessions('${s.id}')`;
}

const SESSION_PATH =
  /^\/api\/v2\.0\/Users(?:\('|%28%27|\(%27)(?<user>[^'%]+)(?:'\)|%27%29|%27\))\/(?<set>Messages|Events)(?:\('|%28%27|\(%27)(?<msg>[^'%]+)(?:'\)|%27%29|%27\))\/AttachmentSessions(?:\('|%28%27|\(%27)(?<sid>[^'%]+)(?:'\)|%27%29|%27\))$/i;

function uploadError(ctx: Ctx, status: number, code: string, message: string): SandboxResponse {
  return graphError(ctx, status, code, message);
}

function sessionFor(sandbox: Sandbox, ctx: Ctx): UploadSession | SandboxResponse {
  const session = mailState(sandbox).sessions.get(ctx.params.sid ?? '');
  if (
    !session ||
    session.token !== ctx.query.get('authtoken') ||
    session.userId !== ctx.params.user ||
    session.itemId !== ctx.params.msg ||
    HOSTS[session.host].entitySet.toLowerCase() !== (ctx.params.set ?? '').toLowerCase()
  ) {
    return uploadError(
      ctx,
      404,
      'ErrorItemNotFound',
      'The upload session was not found or the URL is not valid.',
    );
  }
  if (session.expiresAt < sandbox.now()) {
    mailState(sandbox).sessions.delete(session.id);
    return uploadError(ctx, 404, 'ErrorItemNotFound', 'The upload session has expired.');
  }
  // The URL is pre-authenticated: clients must not send a bearer token to it (reference §8.1,
  // §9; the SDK's LargeFileUploadTask drops it for non-Graph hosts). The sandbox is strict here.
  if (ctx.headers.authorization) {
    return uploadError(
      ctx,
      401,
      'InvalidAuthenticationToken',
      'Do not send an Authorization header to the upload URL.',
    );
  }
  return session;
}

function progress(sandbox: Sandbox, s: UploadSession): SandboxResponse {
  return json(200, {
    '@odata.context': `${sandbox.preauthBaseUrl}/api/v2.0/$metadata#Users('${s.userId}')/${HOSTS[s.host].entitySet}('${s.itemId}')/AttachmentSessions/$entity`,
    ExpirationDateTime: graphTimestamp(s.expiresAt),
    NextExpectedRanges: [`${s.received}`],
  });
}

async function readChunk(ctx: Ctx): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of ctx.req) {
    const buf = c as Buffer;
    size += buf.length;
    if (size > REQUEST_LIMIT_BYTES) return undefined;
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function installUploadUrls(sandbox: Sandbox): void {
  const routes = sandbox.routes;
  routes.on('PUT', SESSION_PATH, async (ctx) => {
    const session = sessionFor(sandbox, ctx);
    if (!('chunks' in session)) return session;
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(ctx.headers['content-range'] ?? '').trim());
    if (!range)
      return uploadError(ctx, 400, 'ErrorInvalidRequest', 'A valid Content-Range header is required.');
    const start = Number(range[1]);
    const end = Number(range[2]);
    const total = Number(range[3]);
    if (total !== session.size) {
      return uploadError(
        ctx,
        400,
        'ErrorInvalidRequest',
        `The total size ${total} does not match the session size ${session.size}.`,
      );
    }
    if (start !== session.received || end < start || end >= total) {
      // Ranges go in order (outlook-large-attachments.md); the next expected one is in the answer.
      return uploadError(
        ctx,
        416,
        'ErrorInvalidRange',
        `The range ${start}-${end} is not the next expected range (${session.received}-).`,
      );
    }
    const chunk = await readChunk(ctx);
    if (!chunk)
      return uploadError(ctx, 413, 'RequestEntityTooLarge', 'Each upload request can carry at most 4 MB.');
    if (chunk.length !== end - start + 1) {
      return uploadError(
        ctx,
        400,
        'ErrorInvalidRequest',
        `The body has ${chunk.length} bytes; Content-Range announces ${end - start + 1}.`,
      );
    }
    session.chunks.push(chunk);
    session.received += chunk.length;
    if (session.received < session.size) return progress(sandbox, session);

    mailState(sandbox).sessions.delete(session.id);
    const store = graphState(sandbox).store;
    const host = HOSTS[session.host];
    if (!store.get(host.ref(store, session.userId), session.itemId))
      return uploadError(ctx, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    const meta = storeBlob(sandbox, session.name, session.contentType, Buffer.concat(session.chunks), {
      isInline: session.isInline,
      contentId: session.contentId,
    });
    setAttachments(store, host, session.userId, session.itemId, (atts) => [...atts, meta]);
    return empty(201, {
      location: `${sandbox.preauthBaseUrl}/api/v2.0/Users('${session.userId}')/${host.entitySet}('${session.itemId}')/Attachments('${meta.id}')`,
    });
  });
  routes.on('GET', SESSION_PATH, (ctx) => {
    const session = sessionFor(sandbox, ctx);
    return 'chunks' in session ? progress(sandbox, session) : session;
  });
  routes.on('DELETE', SESSION_PATH, (ctx) => {
    const session = sessionFor(sandbox, ctx);
    if (!('chunks' in session)) return session;
    mailState(sandbox).sessions.delete(session.id);
    return empty(204);
  });
}
