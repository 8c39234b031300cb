/**
 * Message attachments and attachment upload sessions (graph-behaviour.md §8.1, §9;
 * https://learn.microsoft.com/graph/outlook-large-attachments).
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
 */
import type { Ctx } from '../../context';
import { randomBytes } from 'node:crypto';
import type { Sandbox } from '../../context';
import { empty, graphError, json, type SandboxResponse } from '../../http';
import type { SandboxUser } from '../../state';
import { entityResponse, graphRoute, graphState, type GraphCtx } from '../core';
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
import { graphTimestamp, type Entity } from '../store';

const READ = { scopes: { anyOf: ['Mail.Read'] } };
const WRITE = { scopes: { anyOf: ['Mail.ReadWrite'] } };
/** How long an upload URL stays valid (the sandbox's choice; real sessions expire after some hours). */
const SESSION_LIFETIME_MS = 6 * 3600 * 1000;

function addAttachment(ctx: GraphCtx, owner: SandboxUser, message: Entity, meta: AttachmentMeta): Entity {
  const limit = mailState(ctx.sandbox).maxMessageSizeBytes;
  const next = { ...message, _attachments: [...attachmentsOf(message), meta] };
  if (messageSize(next) > limit) throw messageTooLarge(limit);
  const store = ctx.graph.store;
  return store.update(refs(store, owner.id).messages, message.id, (cur) => {
    const updated = { ...cur, _attachments: [...attachmentsOf(cur), meta] };
    return { ...updated, ...derived(updated) };
  }) as Entity;
}

function findAttachment(message: Entity, id: string): AttachmentMeta {
  const a = attachmentsOf(message).find((x) => x.id === id);
  if (!a) throw notFound('outlook');
  return a;
}

export function installMailAttachments(sandbox: Sandbox): void {
  // https://learn.microsoft.com/graph/api/message-list-attachments
  graphRoute(sandbox, 'GET', '/me/messages/:id/attachments', READ, (ctx) => {
    const message = findMessage(ctx, ctx.params.id!);
    const list = attachmentsOf(message) as unknown as Array<Record<string, unknown>>;
    return collection(ctx, list, {
      kind: 'outlook',
      supports: { orderby: false },
      render: (a) => renderAttachment(sandbox, a as unknown as AttachmentMeta, { withContent: true }),
    });
  });

  // https://learn.microsoft.com/graph/api/attachment-createuploadsession
  graphRoute(sandbox, 'POST', '/me/messages/:id/attachments/createUploadSession', WRITE, async (ctx) => {
    const owner = ctx.user as SandboxUser;
    const message = findMessage(ctx, ctx.params.id!);
    const body = await limitedJson<Record<string, Record<string, unknown> | undefined>>(ctx);
    const item = body.AttachmentItem ?? body.attachmentItem;
    if (!item || typeof item !== 'object') {
      throw new GraphHttpError(400, 'ErrorInvalidRequest', "The 'AttachmentItem' parameter is required.");
    }
    const size = Number(item.size);
    if (str(item.attachmentType, 'file').toLowerCase() !== 'file' || typeof item.name !== 'string') {
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
    const limit = mailState(sandbox).maxMessageSizeBytes;
    if (messageSize(message) + size > limit) throw messageTooLarge(limit);
    const session: UploadSession = {
      id: randomBytes(16).toString('hex'),
      token: randomBytes(24).toString('base64url'),
      userId: owner.id,
      messageId: message.id,
      name: item.name,
      contentType: typeof item.contentType === 'string' ? item.contentType : 'application/octet-stream',
      size,
      isInline: item.isInline === true,
      contentId: typeof item.contentId === 'string' ? item.contentId : null,
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
  graphRoute(sandbox, 'POST', '/me/messages/:id/attachments', WRITE, async (ctx) => {
    const owner = ctx.user as SandboxUser;
    const message = findMessage(ctx, ctx.params.id!);
    const { meta } = fileAttachmentInput(await limitedJson(ctx), sandbox);
    addAttachment(ctx, owner, message, meta);
    return entityResponse(ctx, renderAttachment(sandbox, meta, { withContent: true }), {
      status: 201,
      context: `users('${owner.id}')/messages('${message.id}')/attachments/$entity`,
    });
  });

  // https://learn.microsoft.com/graph/api/attachment-get: raw bytes with /$value.
  graphRoute(sandbox, 'GET', '/me/messages/:id/attachments/:aid/$value', READ, (ctx) => {
    const a = findAttachment(findMessage(ctx, ctx.params.id!), ctx.params.aid!);
    const bytes = mailState(sandbox).blobs.get(a.blob) ?? Buffer.alloc(0);
    return { status: 200, headers: { 'content-type': a.contentType }, body: bytes };
  });

  graphRoute(sandbox, 'GET', '/me/messages/:id/attachments/:aid', READ, (ctx) => {
    const a = findAttachment(findMessage(ctx, ctx.params.id!), ctx.params.aid!);
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
  graphRoute(sandbox, 'DELETE', '/me/messages/:id/attachments/:aid', WRITE, (ctx) => {
    const owner = ctx.user as SandboxUser;
    const message = findMessage(ctx, ctx.params.id!);
    findAttachment(message, ctx.params.aid!);
    const store = ctx.graph.store;
    store.update(refs(store, owner.id).messages, message.id, (cur) => {
      const updated = { ...cur, _attachments: attachmentsOf(cur).filter((x) => x.id !== ctx.params.aid) };
      return { ...updated, ...derived(updated) };
    });
    return empty(204);
  });

  installUploadUrls(sandbox);
}

// ---------------------------------------------------------------- pre-authenticated upload URLs

function sessionUrl(sandbox: Sandbox, s: UploadSession): string {
  return `${sandbox.preauthBaseUrl}/api/v2.0/Users('${s.userId}')/Messages('${s.messageId}')/AttachmentSessions('${s.id}')`;
}

const SESSION_PATH =
  /^\/api\/v2\.0\/Users(?:\('|%28%27|\(%27)(?<user>[^'%]+)(?:'\)|%27%29|%27\))\/Messages(?:\('|%28%27|\(%27)(?<msg>[^'%]+)(?:'\)|%27%29|%27\))\/AttachmentSessions(?:\('|%28%27|\(%27)(?<sid>[^'%]+)(?:'\)|%27%29|%27\))$/i;

function uploadError(ctx: Ctx, status: number, code: string, message: string): SandboxResponse {
  return graphError(ctx, status, code, message);
}

function sessionFor(sandbox: Sandbox, ctx: Ctx): UploadSession | SandboxResponse {
  const session = mailState(sandbox).sessions.get(ctx.params.sid ?? '');
  if (
    !session ||
    session.token !== ctx.query.get('authtoken') ||
    session.userId !== ctx.params.user ||
    session.messageId !== ctx.params.msg
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
    '@odata.context': `${sandbox.preauthBaseUrl}/api/v2.0/$metadata#Users('${s.userId}')/Messages('${s.messageId}')/AttachmentSessions/$entity`,
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
    const messages = refs(store, session.userId).messages;
    const message = store.get(messages, session.messageId);
    if (!message)
      return uploadError(ctx, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    const meta = storeBlob(sandbox, session.name, session.contentType, Buffer.concat(session.chunks), {
      isInline: session.isInline,
      contentId: session.contentId,
    });
    store.update(messages, message.id, (cur) => {
      const updated = { ...cur, _attachments: [...attachmentsOf(cur), meta] };
      return { ...updated, ...derived(updated) };
    });
    return empty(201, {
      location: `${sandbox.preauthBaseUrl}/api/v2.0/Users('${session.userId}')/Messages('${session.messageId}')/Attachments('${meta.id}')`,
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
