/**
 * Putting a file on a message, any size up to the tenant's message limit
 * (https://learn.microsoft.com/graph/outlook-large-attachments, reference §8.1, peers.md item 8):
 * under 3 MB one `POST .../attachments` with base64 content (its JSON stays under Graph's 4 MB
 * request limit); from 3 MB an upload session, PUT in order in ranges under 4 MB to the
 * pre-authenticated `uploadUrl` with plain fetch and NO Authorization header (it is not a Graph
 * host; §9). The source is read as a stream, one range at a time, never whole.
 */
import { Problem } from '../../http/problem';
import { decodeOrRaw } from '../../http/url';
import { badField } from './common';
import { z } from 'zod';
import { RawResult, type ActionContext } from '../../actions/types';
import { toAttachment } from './common';

/** Below this a file goes inline in one POST; from here through an upload session. */
export const INLINE_MAX_BYTES = 3_000_000;
/** Upload range: 11 × 320 KiB ≈ 3.4 MiB, under the 4 MB per-PUT limit. */
export const RANGE_BYTES = 11 * 327_680;

export interface FileToAttach {
  name: string;
  contentType?: string | undefined;
  size: number;
  isInline?: boolean | undefined;
  contentId?: string | undefined;
}

export type ByteSource = AsyncIterable<Uint8Array>;

/** Re-slices a byte stream into ranges of exactly `size` bytes (the last one shorter). */
export async function* ranges(source: ByteSource, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    pendingBytes += chunk.byteLength;
    while (pendingBytes >= size) {
      const all = Buffer.concat(pending);
      yield all.subarray(0, size);
      pending = [all.subarray(size)];
      pendingBytes = all.length - size;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

export function streamSource(stream: ReadableStream<Uint8Array>): ByteSource {
  return {
    async *[Symbol.asyncIterator]() {
      const reader = stream.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          if (value) yield value;
        }
      } finally {
        reader.releaseLock();
      }
    },
  };
}

export function bufferSource(bytes: Buffer): ByteSource {
  return {
    async *[Symbol.asyncIterator]() {
      yield await Promise.resolve(bytes);
    },
  };
}

async function readAll(source: ByteSource, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (size > limit) throw badField('size', `the body is longer than the announced ${limit} bytes`);
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

function attachmentIdFrom(location: string | null): string | undefined {
  const m = location ? /Attachments\('([^']+)'\)/i.exec(decodeOrRaw(location)) : null;
  return m?.[1];
}

/** One range PUT, retried (network errors, 5xx, 429 after Retry-After) a few times. */
async function putRange(url: string, chunk: Buffer, start: number, total: number): Promise<Response> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 4; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'PUT',
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `bytes ${start}-${start + chunk.length - 1}/${total}`,
        },
        body: new Uint8Array(chunk),
      });
      if (res.status < 500 && res.status !== 429) return res;
      const wait = Number(res.headers.get('retry-after') ?? NaN);
      await res.body?.cancel().catch(() => undefined);
      lastError = new Error(`upload range answered ${res.status}`);
      await new Promise((r) => setTimeout(r, Number.isFinite(wait) ? wait * 1000 : 250 * 2 ** attempt));
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
  throw new Problem(
    'upstream_unavailable',
    `Uploading the attachment failed: ${lastError instanceof Error ? lastError.message : 'no answer'}.`,
  );
}

/**
 * Attaches `source` (exactly `file.size` bytes) to an Outlook item, a message or an event
 * (`itemUrl`: `/me/messages/{id}`, `/me/events/{id}`; outlook-large-attachments.md covers both);
 * returns the attachment id and how it went. A failed upload session is cancelled (DELETE uploadUrl).
 */
export async function attachFile(
  ctx: ActionContext,
  itemUrl: string,
  file: FileToAttach,
  source: ByteSource,
): Promise<{ id: string | null; size: number; method: 'inline' | 'uploadSession' }> {
  const base = `${itemUrl}/attachments`;
  if (file.size < INLINE_MAX_BYTES) {
    const bytes = await readAll(source, file.size);
    if (bytes.length !== file.size)
      throw badField('size', `the body has ${bytes.length} bytes, not ${file.size}`);
    // https://learn.microsoft.com/graph/api/message-post-attachments
    const res = await ctx.graph<{ id?: string }>({
      method: 'POST',
      url: base,
      body: {
        '@odata.type': '#microsoft.graph.fileAttachment',
        name: file.name,
        contentType: file.contentType ?? 'application/octet-stream',
        contentBytes: bytes.toString('base64'),
        ...(file.isInline ? { isInline: true } : {}),
        ...(file.contentId ? { contentId: file.contentId } : {}),
      },
    });
    return { id: res.body?.id ?? null, size: bytes.length, method: 'inline' };
  }

  // https://learn.microsoft.com/graph/api/attachment-createuploadsession
  const session = await ctx.graph<{ uploadUrl?: string }>({
    method: 'POST',
    url: `${base}/createUploadSession`,
    body: {
      AttachmentItem: {
        attachmentType: 'file',
        name: file.name,
        size: file.size,
        ...(file.contentType ? { contentType: file.contentType } : {}),
        ...(file.isInline ? { isInline: true } : {}),
        ...(file.contentId ? { contentId: file.contentId } : {}),
      },
    },
  });
  const uploadUrl = session.body?.uploadUrl;
  if (!uploadUrl) throw new Problem('upstream_error', 'Microsoft Graph returned no upload URL.');
  let offset = 0;
  let location: string | null = null;
  try {
    for await (const chunk of ranges(source, RANGE_BYTES)) {
      if (offset + chunk.length > file.size) {
        throw badField('size', `the body is longer than the announced ${file.size} bytes`);
      }
      const res = await putRange(uploadUrl, chunk, offset, file.size);
      offset += chunk.length;
      if (res.status === 201) location = res.headers.get('location');
      else if (res.status !== 200) {
        const text = (await res.text()).slice(0, 200);
        throw new Problem('upstream_error', `The attachment upload was refused (${res.status}): ${text}`);
      } else await res.body?.cancel().catch(() => undefined);
    }
    if (offset !== file.size) throw badField('size', `the body has ${offset} bytes, not ${file.size}`);
  } catch (err) {
    await fetch(uploadUrl, { method: 'DELETE' }).catch(() => undefined);
    throw err;
  }
  return { id: attachmentIdFrom(location) ?? null, size: offset, method: 'uploadSession' };
}

/**
 * Streams one file attachment of an Outlook item (`{itemUrl}/attachments/{id}`) with its content
 * type and file name; the bytes are never held whole in memory
 * (https://learn.microsoft.com/graph/api/attachment-get, raw contents via /$value).
 */
export async function streamAttachment(ctx: ActionContext, url: string): Promise<RawResult> {
  const meta = await ctx.graph({ method: 'GET', url, query: { $select: 'id,name,contentType,size' } });
  const att = toAttachment(meta.body);
  const response = await ctx.graphRaw({ method: 'GET', url: `${url}/$value` });
  const headers: Record<string, string> = {
    'content-type': String(
      att.contentType ?? response.headers.get('content-type') ?? 'application/octet-stream',
    ),
    'content-disposition': contentDisposition(att.name || 'attachment'),
    'cache-control': 'no-store',
  };
  const length = response.headers.get('content-length');
  if (length) headers['content-length'] = length;
  return new RawResult({ status: 200, headers, body: response.body as never });
}

/** A download's file name, ASCII-safe with the UTF-8 form alongside (RFC 6266). */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * The streamed request body of an upload action (`addAttachment`, `addEventAttachment`) attached to
 * an item: its size from the input or Content-Length, checked, then attachFile.
 */
export async function attachRequestBody(
  ctx: ActionContext,
  itemUrl: string,
  file: Omit<FileToAttach, 'size'> & { size?: number | undefined },
): Promise<{ attachmentId: string | null; size: number; method: 'inline' | 'uploadSession' }> {
  const size = file.size ?? Number(ctx.headers.get('content-length') ?? NaN);
  if (!Number.isInteger(size) || size < 0)
    throw badField('size', 'is required when the request has no Content-Length');
  if (!ctx.bodyStream) throw badField('(body)', 'send the file as the request body');
  const result = await attachFile(ctx, itemUrl, { ...file, size }, streamSource(ctx.bodyStream));
  return { attachmentId: result.id, size: result.size, method: result.method };
}

/** The query-string fields of an upload action, besides the item it goes to. */
export const uploadFields = {
  name: z.string().min(1).max(255).describe('File name.'),
  contentType: z.string().max(255).optional().describe('MIME type (default application/octet-stream).'),
  size: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Size in bytes; defaults to the request Content-Length.'),
};

/** What an upload action answers: the attachment and how it went up. */
export const AttachedOut = z.object({
  attachmentId: z.string().nullable(),
  size: z.number(),
  method: z.enum(['inline', 'uploadSession']),
});
