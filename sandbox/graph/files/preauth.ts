/**
 * Pre-authenticated URLs on `sandbox.preauthBaseUrl` (a host the Graph client does not send its
 * token to, reference §9): file downloads that `/content` redirects to (302, Range → 206,
 * https://learn.microsoft.com/graph/api/driveitem-get-content) and copy monitors
 * (https://learn.microsoft.com/graph/long-running-actions-overview: 202 inProgress, then
 * `completed` with `resourceId`).
 */
import type { Ctx } from '../../context';
import { createReadStream, statSync } from 'node:fs';
import type { Sandbox } from '../../context';
import { graphError, json, type SandboxResponse } from '../../http';
import {
  contentKey,
  driveCtx,
  driveOwnerById,
  filesState,
  getItem,
  verifyDownloadToken,
  type CopyJob,
} from './state';

function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** Parses a single `bytes=` range against a size; undefined = serve it all, null = unsatisfiable. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined | null {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // several ranges or another unit: answer with the whole file (RFC 9110 allows it)
  const [a, b] = [m[1] ?? '', m[2] ?? ''];
  if (a === '' && b === '') return undefined;
  let start: number;
  let end: number;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return null;
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || end < start) return null;
  return { start, end };
}

function download(sandbox: Sandbox, ctx: Ctx): SandboxResponse {
  const token = verifyDownloadToken(sandbox, ctx.params.token ?? '');
  if (!token) return graphError(ctx, 401, 'unauthenticated', 'The download URL is invalid or has expired.');
  const owner = driveOwnerById(sandbox, token.userId);
  const d = owner ? driveCtx(sandbox, owner) : undefined;
  const item = d ? getItem(d, token.itemId) : undefined;
  const path = filesState(sandbox).content.get(contentKey(token.userId, token.itemId));
  if (!d || !item || !path) return graphError(ctx, 404, 'itemNotFound', 'Item not found');
  const size = statSync(path).size;
  const mime = String(
    (item.file as { mimeType?: string } | undefined)?.mimeType ?? 'application/octet-stream',
  );
  const headers: Record<string, string> = {
    'content-type': mime,
    'accept-ranges': 'bytes',
    'content-disposition': contentDisposition(String(item.name)),
    etag: typeof item.eTag === 'string' ? item.eTag : '',
  };
  const range = parseRange(ctx.headers.range, size);
  if (range === null) {
    return {
      status: 416,
      headers: { ...headers, 'content-range': `bytes */${size}`, 'content-length': '0' },
    };
  }
  if (size === 0)
    return { status: 200, headers: { ...headers, 'content-length': '0' }, body: Buffer.alloc(0) };
  const { start, end } = range ?? { start: 0, end: size - 1 };
  return {
    status: range ? 206 : 200,
    headers: {
      ...headers,
      'content-length': String(end - start + 1),
      ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    },
    stream: createReadStream(path, { start, end, highWaterMark: 256 * 1024 }),
  };
}

function monitor(sandbox: Sandbox, ctx: Ctx): SandboxResponse {
  const job: CopyJob | undefined = filesState(sandbox).copies.get(ctx.params.id ?? '');
  if (!job) return graphError(ctx, 404, 'itemNotFound', 'The monitor was not found.');
  job.polls += 1;
  if (job.polls <= filesState(sandbox).settings.copyPollsBeforeDone) {
    const percentageComplete = Math.round(
      (job.polls / (filesState(sandbox).settings.copyPollsBeforeDone + 1)) * 100,
    );
    return json(202, { operation: 'ItemCopy', percentageComplete, status: 'inProgress' });
  }
  if (job.status === 'failed') {
    return json(200, { operation: 'ItemCopy', percentageComplete: 0, status: 'failed', error: job.error });
  }
  return json(200, {
    operation: 'ItemCopy',
    percentageComplete: 100,
    resourceId: job.resourceId,
    status: 'completed',
  });
}

export function installPreauthUrls(sandbox: Sandbox): void {
  sandbox.routes.on('GET', '/preauth/download/:token', (ctx) => download(sandbox, ctx));
  sandbox.routes.on('GET', '/preauth/monitor/:id', (ctx) => monitor(sandbox, ctx));
}
