/**
 * Uploads: the simple PUT `/content` and resumable upload sessions (reference §8.3;
 * https://learn.microsoft.com/graph/api/driveitem-put-content and
 * https://learn.microsoft.com/graph/api/driveitem-createuploadsession).
 *
 * Bodies are streamed to temp files and hashed on the way (sha1 + quickXorHash); nothing is held
 * in memory. Session fragments must arrive in order with Content-Range and Content-Length: 202 with
 * nextExpectedRanges until the last byte, then 201 (new) / 200 (replaced) with the driveItem;
 * 416 invalidRange for overlaps and gaps, 404 once the session expired or was cancelled. Upload
 * URLs live on the preauth host and refuse an Authorization header ("including it may give 401").
 */
import type { Ctx } from '../../context';
import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Sandbox } from '../../context';
import { empty, json, type SandboxResponse } from '../../http';
import { entityResponse, errorResponse, type GraphCtx } from '../core';
import { GraphHttpError, badRequest, notFound } from '../errors';
import { QuickXorHash } from './hash';
import {
  commitContent,
  conflictBehaviorOf,
  driveCtx,
  driveOwnerById,
  filesState,
  getItem,
  isFolder,
  newContentPath,
  placeName,
  removeFile,
  renderItem,
  usedBytes,
  type ConflictBehavior,
  type DriveCtx,
  type UploadSession,
} from './state';
import { graphTimestamp } from '../store';

/** Simple upload limit on the current docs page (older page: 4 MB). */
export const SIMPLE_UPLOAD_MAX = 250 * 1024 * 1024;
/** Each fragment PUT must be under 60 MiB. */
const FRAGMENT_MAX = 60 * 1024 * 1024;
/** Fragments other than the last are multiples of 320 KiB. */
const FRAGMENT_UNIT = 320 * 1024;

interface Hashers {
  sha1: ReturnType<typeof createHash>;
  quickXor: QuickXorHash;
}

/**
 * Streams a request body into a file at `offset`, hashing as it goes. Throws on a body longer
 * than `maxBytes` (413) or a dropped connection; returns the byte count.
 */
async function streamToFile(
  req: IncomingMessage,
  path: string,
  offset: number,
  maxBytes: number,
  hashers: Hashers,
  flags: 'w' | 'r+',
): Promise<number> {
  const file = await open(path, flags);
  let written = 0;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      if (written + buf.length > maxBytes) {
        throw new GraphHttpError(
          413,
          'invalidRequest',
          'The request body is larger than declared or allowed.',
          {
            innerCode: 'maxFileSizeExceeded',
          },
        );
      }
      hashers.sha1.update(buf);
      hashers.quickXor.update(buf);
      let done = 0;
      while (done < buf.length) {
        const { bytesWritten } = await file.write(buf, done, buf.length - done, offset + written + done);
        done += bytesWritten;
      }
      written += buf.length;
    }
  } finally {
    await file.close();
  }
  if (!req.complete) throw new Error('the client closed the connection mid-body');
  return written;
}

function lengthHeader(ctx: Ctx): number | undefined {
  const raw = ctx.headers['content-length'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** PUT /content: create or replace a file in one request (default conflictBehavior replace). */
export async function simpleUpload(
  ctx: GraphCtx,
  d: DriveCtx,
  target: { parentId: string; name: string; itemId?: string },
  behavior: ConflictBehavior,
): Promise<SandboxResponse> {
  const declared = lengthHeader(ctx);
  if (declared !== undefined && declared > SIMPLE_UPLOAD_MAX) {
    throw new GraphHttpError(
      413,
      'invalidRequest',
      'The file is too large for a simple upload; use an upload session.',
      {
        innerCode: 'maxFileSizeExceeded',
      },
    );
  }
  const placed = target.itemId
    ? { name: target.name, existing: getItem(d, target.itemId) }
    : placeName(d, target.parentId, target.name, behavior);
  if (placed.existing && isFolder(placed.existing))
    throw new GraphHttpError(409, 'nameAlreadyExists', 'A folder with this name already exists.');
  const state = filesState(d.sandbox);
  const path = newContentPath(state);
  const hashers: Hashers = { sha1: createHash('sha1'), quickXor: new QuickXorHash() };
  let size: number;
  try {
    size = await streamToFile(ctx.req, path, 0, declared ?? SIMPLE_UPLOAD_MAX, hashers, 'w');
    checkQuota(d, size);
  } catch (err) {
    removeFile(path);
    throw err;
  }
  const { item, created } = commitContent(
    d,
    {
      parentId: target.parentId,
      name: placed.name,
      ...(placed.existing ? { existing: placed.existing } : {}),
    },
    path,
    size,
    { sha1: hashers.sha1.digest('hex'), quickXor: hashers.quickXor.digest() },
  );
  return entityResponse(ctx, renderItem(d, item), {
    status: created ? 201 : 200,
    context: `users('${d.owner.id}')/drive/items/$entity`,
  });
}

function checkQuota(d: DriveCtx, extra: number): void {
  if (usedBytes(d) + extra > filesState(d.sandbox).settings.quotaBytes) {
    // 507 Insufficient Storage (reference §1.2, createuploadsession.md).
    throw new GraphHttpError(507, 'quotaLimitReached', 'Insufficient Space Available');
  }
}

function sessionUrl(sandbox: Sandbox, session: UploadSession): string {
  return `${sandbox.preauthBaseUrl}/preauth/upload/${session.id}`;
}

function sessionStatus(session: UploadSession) {
  return {
    expirationDateTime: graphTimestamp(session.expiresAt),
    nextExpectedRanges: [`${session.received}-${session.fileSize !== undefined ? session.fileSize - 1 : ''}`],
  };
}

/** POST .../createUploadSession (default conflictBehavior fail; the conflict is checked at commit). */
export async function createUploadSession(
  ctx: GraphCtx,
  d: DriveCtx,
  target: { parentId: string; name: string; itemId?: string },
): Promise<SandboxResponse> {
  const body = await ctx.json<{
    item?: {
      '@microsoft.graph.conflictBehavior'?: string;
      name?: string;
      fileSize?: number;
      description?: string;
    };
    deferCommit?: boolean;
  }>();
  const state = filesState(d.sandbox);
  sweepExpired(d.sandbox);
  const item = body.item ?? {};
  const behavior = conflictBehaviorOf(
    item['@microsoft.graph.conflictBehavior'] ?? ctx.query.get('@microsoft.graph.conflictBehavior'),
    'fail',
  );
  if (item.fileSize !== undefined) {
    if (!Number.isInteger(item.fileSize) || item.fileSize < 0)
      throw badRequest('drive', 'fileSize must be a non-negative integer.');
    checkQuota(d, item.fileSize);
  }
  // If-Match on an existing item: 412 when it changed (createuploadsession.md).
  const ifMatch = ctx.headers['if-match'];
  if (typeof ifMatch === 'string' && target.itemId) {
    const current = getItem(d, target.itemId);
    if (current && ifMatch !== current.eTag && ifMatch !== current.cTag) {
      throw new GraphHttpError(412, 'resourceModified', "ETag does not match current item's value", {
        innerCode: 'entityTagDoesNotMatch',
      });
    }
  }
  const tempPath = newContentPath(state);
  const fh = await open(tempPath, 'w');
  await fh.close();
  const session: UploadSession = {
    id: randomBytes(36).toString('base64url'),
    userId: d.owner.id,
    parentId: target.parentId,
    name: target.name,
    ...(target.itemId ? { itemId: target.itemId } : {}),
    conflictBehavior: behavior,
    ...(item.fileSize !== undefined ? { fileSize: item.fileSize } : {}),
    received: 0,
    expiresAt: d.sandbox.now() + state.settings.uploadSessionLifetimeSeconds * 1000,
    deferCommit: body.deferCommit === true,
    tempPath,
    sha1: createHash('sha1'),
    quickXor: new QuickXorHash(),
    ...(item.description !== undefined ? { description: item.description } : {}),
  };
  state.sessions.set(session.id, session);
  return json(200, {
    '@odata.context': `${d.sandbox.graphBaseUrl}/$metadata#microsoft.graph.uploadSession`,
    uploadUrl: sessionUrl(d.sandbox, session),
    ...sessionStatus(session),
  });
}

function sweepExpired(sandbox: Sandbox): void {
  const state = filesState(sandbox);
  for (const session of state.sessions.values()) {
    if (session.expiresAt < sandbox.now()) dropSession(sandbox, session);
  }
}

export function dropSession(sandbox: Sandbox, session: UploadSession): void {
  filesState(sandbox).sessions.delete(session.id);
  removeFile(session.tempPath);
}

function sessionGone(): GraphHttpError {
  // "A 404 on the session means it's gone, so restart" (reference §8.3).
  return new GraphHttpError(404, 'itemNotFound', 'The upload session was not found.', {
    innerCode: 'uploadSessionNotFound',
  });
}

function liveSession(sandbox: Sandbox, id: string): UploadSession {
  const session = filesState(sandbox).sessions.get(id);
  if (!session) throw sessionGone();
  if (session.expiresAt < sandbox.now()) {
    dropSession(sandbox, session);
    throw sessionGone();
  }
  return session;
}

function invalidRange(inner: string, message: string): GraphHttpError {
  return new GraphHttpError(416, 'invalidRange', message, { innerCode: inner });
}

/** Commits a complete session: conflict check, then the file is created or replaced. */
function commitSession(sandbox: Sandbox, session: UploadSession): SandboxResponse {
  const owner = driveOwnerById(sandbox, session.userId);
  if (!owner) throw sessionGone();
  const d = driveCtx(sandbox, owner);
  if (!getItem(d, session.parentId)) throw notFound('drive', 'The destination folder no longer exists.');
  let placed: { name: string; existing?: ReturnType<typeof getItem> };
  if (session.itemId) placed = { name: session.name, existing: getItem(d, session.itemId) };
  else placed = placeName(d, session.parentId, session.name, session.conflictBehavior); // 409 at commit (reference §8.3)
  const { item, created } = commitContent(
    d,
    {
      parentId: session.parentId,
      name: placed.name,
      ...(placed.existing ? { existing: placed.existing } : {}),
      ...(session.description !== undefined ? { description: session.description } : {}),
    },
    session.tempPath,
    session.received,
    { sha1: session.sha1.digest('hex'), quickXor: session.quickXor.digest() },
  );
  filesState(sandbox).sessions.delete(session.id);
  return json(created ? 201 : 200, {
    '@odata.context': `${sandbox.graphBaseUrl}/$metadata#users('${owner.id}')/drive/items/$entity`,
    ...renderItem(d, item),
  });
}

function parseContentRange(
  header: string | undefined,
): { start: number; end: number; total: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec((header ?? '').trim());
  if (!m) return undefined;
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (end < start || end >= total) return undefined;
  return { start, end, total };
}

/** PUT {uploadUrl}: one fragment. */
async function putFragment(ctx: Ctx, sandbox: Sandbox, session: UploadSession): Promise<SandboxResponse> {
  const length = lengthHeader(ctx);
  if (length === undefined) {
    throw new GraphHttpError(411, 'invalidRequest', 'Content-Length is required for upload fragments.');
  }
  const range = parseContentRange(ctx.headers['content-range']);
  if (!range)
    throw badRequest('drive', 'The Content-Range header is missing or malformed (bytes start-end/total).');
  const fragmentLength = range.end - range.start + 1;
  if (fragmentLength !== length) {
    throw invalidRange('fragmentLengthMismatch', 'The Content-Range does not match the Content-Length.');
  }
  if (fragmentLength > FRAGMENT_MAX) {
    throw new GraphHttpError(413, 'invalidRequest', 'Each fragment must be smaller than 60 MiB.', {
      innerCode: 'maxFragmentLengthExceeded',
    });
  }
  if (session.fileSize === undefined) session.fileSize = range.total;
  if (range.total !== session.fileSize) {
    throw badRequest('drive', 'The total size in Content-Range differs from the upload session size.');
  }
  const last = range.end === range.total - 1;
  if (!last && fragmentLength % FRAGMENT_UNIT !== 0) {
    throw badRequest('drive', 'Fragments other than the last must be a multiple of 320 KiB (327,680 bytes).');
  }
  if (range.start < session.received) {
    throw invalidRange(
      'fragmentOverlap',
      'The uploaded fragment overlaps with data that has already been received.',
    );
  }
  if (range.start > session.received) {
    throw invalidRange(
      'fragmentOutOfOrder',
      'The uploaded fragment is out of order; see nextExpectedRanges.',
    );
  }

  const state = filesState(sandbox);
  const fault = state.fragmentFaults.find((f) => f.remaining > 0);
  if (fault && !fault.afterWrite) {
    fault.remaining -= 1;
    throw new GraphHttpError(fault.status, 'serviceNotAvailable', 'Injected fragment fault.', {
      headers: { 'retry-after': '0' },
    });
  }

  // Hash on copies: a fragment that does not arrive whole leaves the session as it was.
  const hashers: Hashers = { sha1: session.sha1.copy(), quickXor: session.quickXor.copy() };
  await streamToFile(ctx.req, session.tempPath, range.start, length, hashers, 'r+');
  if (session.received !== range.start) {
    throw invalidRange('fragmentOverlap', 'Another request wrote this range meanwhile.');
  }
  session.sha1 = hashers.sha1;
  session.quickXor = hashers.quickXor;
  session.received = range.end + 1;
  session.expiresAt = sandbox.now() + state.settings.uploadSessionLifetimeSeconds * 1000;

  if (fault?.afterWrite) {
    // The bytes are stored, but the client never hears so: it must ask where to resume.
    fault.remaining -= 1;
    throw new GraphHttpError(
      fault.status,
      'serviceNotAvailable',
      'Injected fragment fault (after the fragment was stored).',
      {
        headers: { 'retry-after': '0' },
      },
    );
  }
  if (session.received === session.fileSize && !session.deferCommit) return commitSession(sandbox, session);
  return json(202, sessionStatus(session));
}

/** Upload URL routes on the preauth host: PUT fragment, GET status, DELETE cancel, POST commit. */
export function installUploadUrls(sandbox: Sandbox): void {
  const handle =
    (fn: (ctx: Ctx, session: UploadSession) => Promise<SandboxResponse> | SandboxResponse) =>
    async (ctx: Ctx): Promise<SandboxResponse> => {
      try {
        if (ctx.headers.authorization) {
          // The upload URL is pre-authenticated; real OneDrive may answer 401 to a bearer token (reference §8.3, §9).
          throw new GraphHttpError(
            401,
            'unauthenticated',
            'Upload URLs must be called without an Authorization header.',
          );
        }
        const session = liveSession(sandbox, ctx.params.id ?? '');
        return await fn(ctx, session);
      } catch (err) {
        // Drain what the client still sends so the connection stays usable.
        if (!ctx.req.complete) ctx.req.resume();
        return errorResponse(ctx, err, 'drive');
      }
    };
  sandbox.routes.on(
    'PUT',
    '/preauth/upload/:id',
    handle((ctx, s) => putFragment(ctx, sandbox, s)),
  );
  sandbox.routes.on(
    'GET',
    '/preauth/upload/:id',
    handle((_ctx, s) => json(200, sessionStatus(s))),
  );
  sandbox.routes.on(
    'DELETE',
    '/preauth/upload/:id',
    handle((_ctx, s) => {
      dropSession(sandbox, s);
      return empty(204);
    }),
  );
  // deferCommit: "Commit with POST {uploadUrl} and Content-Length 0" (reference §8.3).
  sandbox.routes.on(
    'POST',
    '/preauth/upload/:id',
    handle((_ctx, s) => {
      if (s.fileSize === undefined || s.received !== s.fileSize) {
        throw new GraphHttpError(400, 'invalidRequest', 'The upload is incomplete.', {
          innerCode: 'uploadSessionIncomplete',
        });
      }
      return commitSession(sandbox, s);
    }),
  );
}
