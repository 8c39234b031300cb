/**
 * The OneDrive upload engine: streams a request body of any size to a drive path without ever
 * holding more than ONE chunk buffer (3.125 MiB = 10 × 320 KiB; reference §8.3, §9). That is
 * below the 5–10 MiB Microsoft recommends (the SDK's LargeFileUploadTask uses 5 MiB) on purpose:
 * per-upload memory matters more here than a few more requests (`chunkSize` changes it).
 *
 * - Under 4 MiB: one simple PUT /content through the Graph chokepoint (peers cap uploads here).
 * - Otherwise an upload session (createUploadSession through the chokepoint), then each chunk is
 *   PUT to the pre-authenticated upload URL with plain fetch and NO Authorization header
 *   (the URL is not Graph; a token there may even be refused), with `Content-Range` and the same
 *   total every time. 202 → continue at nextExpectedRanges; 200/201 → done.
 * - 5xx, 429, 416 or a dropped connection: wait (Retry-After or jittered backoff), GET the upload
 *   URL for nextExpectedRanges and continue from there, re-sending only what the server lacks
 *   (bounded attempts per chunk).
 * - 404 = the session is gone. A new session must start from byte 0, but the bytes already
 *   streamed from the caller are gone too (we kept one chunk, not the file). So a restart is only
 *   possible while the current buffer still starts at byte 0 (the session vanished before or at
 *   the first chunk); later, the honest answer is a problem asking the caller to retry the
 *   upload. The session is cancelled on every terminal failure so no partial data lingers.
 * Docs: https://learn.microsoft.com/graph/api/driveitem-createuploadsession
 */
import { z } from 'zod';
import { parseRetryAfter } from '../../graph/errors';
import { backoffMs } from '../../graph/middleware';
import { Problem } from '../../http/problem';
import type { ActionContext } from '../../actions/types';

export const FRAGMENT_UNIT = 320 * 1024;
export const DEFAULT_CHUNK_SIZE = 10 * FRAGMENT_UNIT;
/** Uploads smaller than this go in one PUT (the integration's simple-upload limit, reference §8.3). */
export const SIMPLE_UPLOAD_LIMIT = 4 * 1024 * 1024;

/** After a failure, up to this much of the rest of the body is read and dropped (see discard). */
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

export type ConflictBehavior = 'fail' | 'replace' | 'rename';

export interface UploadRequest {
  /** Graph address of the target by path, e.g. `/me/drive/root:/a/b.txt:` (itemUrl). */
  targetUrl: string;
  conflictBehavior: ConflictBehavior;
  body: ReadableStream<Uint8Array>;
  /** Total bytes, when known (Content-Length or the `size` input). Required above 4 MiB. */
  size?: number;
  chunkSize?: number;
  /** Attempts per chunk before giving up (default 6). */
  maxAttempts?: number;
  /** Upper bound for one wait between attempts (ms). */
  maxWaitMs?: number;
}

export interface UploadResult {
  item: unknown;
  /** Chunk PUTs and status GETs sent (for logs and benchmarks). */
  fragments: number;
  resumes: number;
  restarts: number;
}

/** Reads a web stream into a caller-provided buffer, keeping the rest of a partly used read. */
export class ChunkReader {
  private pending: Uint8Array | undefined;
  private done = false;
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** Fills `buf` from the start; fewer bytes than its length only at the end of the stream. */
  async fill(buf: Uint8Array): Promise<number> {
    let n = 0;
    while (n < buf.length) {
      if (!this.pending || this.pending.length === 0) {
        if (this.done) break;
        const { value, done } = await this.reader.read();
        if (done) {
          this.done = true;
          break;
        }
        this.pending = value;
      }
      const take = Math.min(this.pending.length, buf.length - n);
      buf.set(this.pending.subarray(0, take), n);
      this.pending = this.pending.subarray(take);
      n += take;
    }
    return n;
  }

  /** True when the stream has no more bytes (reads ahead at most one piece). */
  async atEnd(): Promise<boolean> {
    if (this.pending && this.pending.length > 0) return false;
    if (this.done) return true;
    const { value, done } = await this.reader.read();
    if (done) {
      this.done = true;
      return true;
    }
    this.pending = value;
    return value.length === 0 ? await this.atEnd() : false;
  }

  /**
   * Ends our use of the body after a failure. Reading the rest (and dropping it) lets the host
   * send our answer on a healthy connection; beyond `limit` bytes or `timeoutMs` we cancel the
   * stream instead, which resets the caller's connection (cheaper than swallowing gigabytes).
   */
  async discard(limit: number, timeoutMs = 10_000): Promise<void> {
    this.pending = undefined;
    const until = Date.now() + timeoutMs;
    let dropped = 0;
    while (!this.done) {
      if (dropped > limit || Date.now() > until) {
        await this.reader.cancel().catch(() => undefined);
        this.done = true;
        return;
      }
      const { value, done } = await this.reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) this.done = true;
      else dropped += value?.length ?? 0;
    }
  }
}

const SessionSchema = z
  .object({ uploadUrl: z.string().url(), nextExpectedRanges: z.array(z.string()).optional() })
  .passthrough();
const StatusSchema = z
  .object({
    nextExpectedRanges: z.array(z.string()).optional(),
    NextExpectedRanges: z.array(z.string()).optional(),
  })
  .passthrough();

/** The first offset in nextExpectedRanges (`["26-"]`, `["12345-55232","77829-99375"]`); either casing (§9). */
export function nextExpectedOffset(body: unknown): number | undefined {
  const parsed = StatusSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const ranges = parsed.data.nextExpectedRanges ?? parsed.data.NextExpectedRanges;
  const first = ranges?.[0];
  const m = first ? /^(\d+)-/.exec(first) : null;
  return m ? Number(m[1]) : undefined;
}

function tooLargeWithoutSize(): Problem {
  return new Problem(
    'invalid_input',
    'Uploads of 4 MiB or more need their size up front: send Content-Length or the size query parameter.',
    { errors: [{ field: 'size', message: 'required for uploads of 4 MiB or more' }] },
  );
}

function sizeMismatch(declared: number, actual: string): Problem {
  return new Problem(
    'invalid_input',
    `The body does not match the declared size of ${declared} bytes (${actual}).`,
    {
      errors: [{ field: 'size', message: 'does not match the body' }],
    },
  );
}

function sessionLost(): Problem {
  return new Problem(
    'upstream_unavailable',
    'OneDrive discarded the upload session part-way through and the bytes already streamed cannot be replayed; nothing was saved. Retry the upload.',
    { outcomeUnknown: false, retryable: true },
  );
}

function failedAfterRetries(status: number): Problem {
  return new Problem(
    'upstream_unavailable',
    `OneDrive kept failing while receiving the file (last status ${status || 'network error'}); nothing was saved. Retry the upload later.`,
    { outcomeUnknown: false, retryable: true },
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Streams a body to OneDrive; returns Graph's driveItem. */
export async function uploadStream(ctx: ActionContext, req: UploadRequest): Promise<UploadResult> {
  const chunkSize = req.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (chunkSize % FRAGMENT_UNIT !== 0 || chunkSize <= 0)
    throw new Error('chunkSize must be a multiple of 320 KiB');
  const reader = new ChunkReader(req.body.getReader());
  let finished = false;
  try {
    const buf = new Uint8Array(chunkSize);
    const size = req.size;
    if (size !== undefined && size >= SIMPLE_UPLOAD_LIMIT && req.conflictBehavior === 'fail') {
      // The conflict would only surface at commit, after the whole file went up (reference §8.3):
      // check first, before reading the body.
      await failIfExists(ctx, req.targetUrl);
    }
    const filled = await reader.fill(buf);
    if (filled < SIMPLE_UPLOAD_LIMIT && (await reader.atEnd())) {
      if (size !== undefined && size !== filled) throw sizeMismatch(size, `got ${filled}`);
      const res = await ctx.graph({
        method: 'PUT',
        url: `${req.targetUrl}/content`,
        query: { '@microsoft.graph.conflictBehavior': req.conflictBehavior },
        headers: { 'Content-Type': 'application/octet-stream' },
        body: Buffer.from(buf.buffer, buf.byteOffset, filled),
      });
      finished = true;
      return { item: res.body, fragments: 1, resumes: 0, restarts: 0 };
    }
    if (size === undefined) throw tooLargeWithoutSize();
    if (filled > size) throw sizeMismatch(size, 'the body is longer');

    const result = await sendChunks(ctx, req, reader, buf, filled, size);
    finished = true;
    return result;
  } finally {
    if (!finished) await reader.discard(MAX_DISCARD_BYTES);
  }
}

async function failIfExists(ctx: ActionContext, targetUrl: string): Promise<void> {
  try {
    await ctx.graph({ method: 'GET', url: targetUrl, query: { $select: 'id' } });
  } catch (err) {
    if ((err as { status?: number }).status === 404) return;
    throw err;
  }
  throw new Problem(
    'conflict',
    'An item with this name already exists at that path. Use conflictBehavior "replace" to overwrite it or "rename" to keep both.',
    { graphCode: 'nameAlreadyExists' },
  );
}

async function createSession(ctx: ActionContext, req: UploadRequest, size: number): Promise<string> {
  const res = await ctx.graph({
    method: 'POST',
    url: `${req.targetUrl}/createUploadSession`,
    body: { item: { '@microsoft.graph.conflictBehavior': req.conflictBehavior, fileSize: size } },
    // A session nobody uses expires on its own: creating one again is harmless.
    idempotent: true,
  });
  const session = SessionSchema.parse(res.body);
  if (new URL(session.uploadUrl).protocol !== 'https:') throw new Error('upload URL is not https');
  return session.uploadUrl;
}

interface Attempt {
  status: number;
  body?: unknown;
  retryAfterMs?: number;
}

/**
 * Runs a fetch with a timeout whose timer is cleared as soon as it is done. (AbortSignal.timeout
 * would keep the signal, its listeners and through them the request body alive until it fires.)
 */
async function timed<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await fn(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

async function put(url: string, bytes: Uint8Array, start: number, total: number): Promise<Attempt> {
  try {
    // Plain fetch: the upload URL is pre-authenticated and must not get the user's token.
    return await timed(120_000, async (signal) => {
      const res = await fetch(url, {
        method: 'PUT',
        headers: {
          'content-range': `bytes ${start}-${start + bytes.length - 1}/${total}`,
          'content-type': 'application/octet-stream',
        },
        body: bytes as unknown as BodyInit,
        signal,
      });
      return await readAttempt(res);
    });
  } catch {
    return { status: 0 };
  }
}

async function readAttempt(res: Response): Promise<Attempt> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
}

async function status(url: string): Promise<Attempt> {
  try {
    return await timed(30_000, async (signal) => await readAttempt(await fetch(url, { signal })));
  } catch {
    return { status: 0 };
  }
}

async function cancelSession(url: string): Promise<void> {
  await timed(10_000, async (signal) => await fetch(url, { method: 'DELETE', signal })).catch(
    () => undefined,
  );
}

function isDone(a: Attempt): boolean {
  // Completion is 201, or 200 with an id (LargeFileUploadTask, reference §9).
  return (
    (a.status === 201 || a.status === 200) && typeof (a.body as { id?: unknown } | undefined)?.id === 'string'
  );
}

/**
 * The chunk loop. `offset` is the file position of buf[0]; `next` the next byte the server
 * expects. Fragments end on 320 KiB boundaries (offsets are multiples of the chunk size, so
 * aligning within the buffer aligns in the file).
 */
async function sendChunks(
  ctx: ActionContext,
  req: UploadRequest,
  reader: ChunkReader,
  buf: Uint8Array,
  initialFill: number,
  size: number,
): Promise<UploadResult> {
  const maxAttempts = req.maxAttempts ?? 6;
  const maxWaitMs = req.maxWaitMs ?? 30_000;
  let uploadUrl = await createSession(ctx, req, size);
  let offset = 0;
  let filled = initialFill;
  let next = 0;
  let attempts = 0;
  let fragments = 0;
  let resumes = 0;
  let restarts = 0;
  const log = (event: string, extra: Record<string, unknown>) =>
    ctx.log.log(JSON.stringify({ event, ...extra }));

  const fail = async (problem: Problem): Promise<never> => {
    await cancelSession(uploadUrl);
    throw problem;
  };

  /** Moves to `expected`: within the buffer, or past it (read the next chunk). */
  const advanceTo = async (expected: number): Promise<void> => {
    if (expected < offset) await fail(sessionLost()); // the server lost bytes we no longer hold
    while (expected >= offset + filled && offset + filled < size) {
      offset += filled;
      filled = await reader.fill(buf);
      if (filled === 0) await fail(sizeMismatch(size, `got ${offset}`));
      if (offset + filled > size) await fail(sizeMismatch(size, 'the body is longer'));
    }
    if (expected > offset + filled) await fail(sessionLost());
    next = expected;
  };

  for (;;) {
    const from = next - offset;
    const to =
      from % FRAGMENT_UNIT === 0 ? filled : Math.min(filled, Math.ceil(from / FRAGMENT_UNIT) * FRAGMENT_UNIT);
    if (offset + filled < size && filled < buf.length)
      await fail(sizeMismatch(size, `got ${offset + filled}`));
    const attempt = await put(uploadUrl, buf.subarray(from, to), next, size);
    fragments += 1;

    if (isDone(attempt)) {
      if (!(await reader.atEnd())) await fail(sizeMismatch(size, 'the body is longer'));
      return { item: attempt.body, fragments, resumes, restarts };
    }
    if (attempt.status === 202) {
      attempts = 0;
      await advanceTo(nextExpectedOffset(attempt.body) ?? next + (to - from));
      continue;
    }
    if (attempt.status === 404) {
      // The session is gone (expired or discarded): restart only if we can replay from byte 0.
      if (offset === 0 && restarts < 2) {
        restarts += 1;
        log('upload_session_restart', { restarts });
        uploadUrl = await createSession(ctx, req, size);
        next = 0;
        continue;
      }
      throw sessionLost();
    }
    if (attempt.status === 409) {
      await fail(
        new Problem(
          'conflict',
          'An item with this name was created at that path meanwhile. Use conflictBehavior "replace" or "rename".',
          { graphCode: 'nameAlreadyExists' },
        ),
      );
    }
    const retryable =
      attempt.status === 0 || attempt.status === 416 || attempt.status === 429 || attempt.status >= 500;
    if (!retryable) {
      const code =
        (attempt.body as { error?: { code?: string } } | undefined)?.error?.code ?? `http_${attempt.status}`;
      await fail(
        new Problem('upstream_error', `OneDrive refused an upload fragment (${attempt.status} ${code}).`, {
          graphCode: code,
        }),
      );
    }
    // Resume: wait, ask the session what it has, continue from there.
    for (;;) {
      attempts += 1;
      if (attempts > maxAttempts) await fail(failedAfterRetries(attempt.status));
      const wait = Math.min(maxWaitMs, attempt.retryAfterMs ?? backoffMs(attempts, 250, maxWaitMs));
      log('upload_resume', { status: attempt.status, at: next, waitMs: wait });
      await sleep(wait);
      const state = await status(uploadUrl);
      if (state.status === 404) {
        if (offset === 0 && restarts < 2) {
          restarts += 1;
          uploadUrl = await createSession(ctx, req, size);
          next = 0;
          break;
        }
        throw sessionLost();
      }
      const expected = state.status === 200 ? nextExpectedOffset(state.body) : undefined;
      if (expected === undefined) continue; // the status call failed too: wait and ask again
      resumes += 1;
      await advanceTo(expected);
      break;
    }
  }
}
