/**
 * Benchmark: a large file through the files actions and back (upload with files.upload, download
 * with files.download), with the process's memory growth measured while the bytes flow. The
 * sandbox, the local Functions host and the client all run in this one process, so the numbers
 * include the sandbox's disk-backed storage, the upload engine's one chunk buffer and the
 * download stream. Prints one JSON line:
 *   {"bench":"files-stream","sizeMB":100,"uploadMBps":…,"downloadMBps":…,"peakRssGrowthMB":…,
 *    "peakArrayBuffersGrowthMB":…,"peakHeldGrowthMB":…,"rssGrowthToFileSize":…,"gcEveryMs":…,"identical":true}
 * once as V8 runs by itself (its GC lets up to ~64 MB of dead buffers accumulate) and once sampled
 * after a forced GC every 50 ms, which shows what the process actually holds.
 * Run: `npm run build && node scripts/with-sandbox-ca.mjs node dist/bench/files-stream.js [sizeMB]`.
 * `streamRoundTrip` is also what test/e2e/files.test.ts measures.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FUNCTION_KEY, startAppHarness } from '../scripts/harness';
import { withAzurite, type BenchResult } from './harness';

export interface RoundTripOptions {
  /** http://host:port/api */
  api: string;
  /** Function key and caller bearer token. */
  headers: Record<string, string>;
  /** Drive path of the file, e.g. /Bench/100mb.bin */
  path: string;
  sizeBytes: number;
  /** Memory sampling interval (ms). */
  sampleMs?: number;
  /**
   * Force a full GC before every sample (ms between samples): the peak then shows memory the
   * process HOLDS (live objects plus at most one interval of garbage), not V8's GC slack, which
   * lets up to ~64 MB of dead ArrayBuffers pile up before it collects them.
   */
  gcEveryMs?: number;
}

export interface RoundTripResult {
  sizeBytes: number;
  uploadMs: number;
  downloadMs: number;
  uploadSha256: string;
  downloadSha256: string;
  downloadedBytes: number;
  uploadStatus: number;
  downloadStatus: number;
  item: unknown;
  peakRssGrowthBytes: number;
  peakArrayBuffersGrowthBytes: number;
  /** Peak of heapUsed + arrayBuffers above the start (what is held when sampled after a GC). */
  peakHeldGrowthBytes: number;
  gcEveryMs: number | null;
  /** Forced collections while sampling (with gcEveryMs) and the time they took. */
  gcSamples: number;
  gcMs: number;
}

type GcFn = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;
let gcFn: GcFn | undefined;
/** V8's gc(), exposed at runtime when Node was not started with --expose-gc. */
export function forceGc(type: 'major' | 'minor' = 'major'): void {
  if (!gcFn) {
    const existing = (globalThis as { gc?: GcFn }).gc;
    if (existing) gcFn = existing;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as GcFn;
    }
  }
  gcFn({ type, execution: 'sync' });
}

/** Pseudo-random bytes generated on the fly in 256 KiB pieces, hashed as they are produced. */
async function* generated(sizeBytes: number, hash: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  for (let sent = 0; sent < sizeBytes;) {
    const piece = Buffer.allocUnsafe(Math.min(256 * 1024, sizeBytes - sent));
    randomFillSync(piece);
    hash.update(piece);
    sent += piece.length;
    yield piece;
  }
}

/**
 * POSTs a streamed body with node:http, which waits for the socket to drain. (Node 20's fetch
 * reads a ReadableStream request body ahead of the socket without backpressure, so a client
 * built on it would hold most of the file itself — measured, and not what we are measuring.)
 */
async function postStream(
  url: string,
  headers: Record<string, string>,
  body: AsyncIterable<Buffer>,
): Promise<{ status: number; text: string }> {
  const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { method: 'POST', headers });
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }),
      );
    });
  });
  // Byte mode with a small high-water mark (Readable.from defaults to 16 objects = 16 pieces ahead).
  await pipeline(Readable.from(body, { objectMode: false, highWaterMark: 256 * 1024 }), req);
  return await response;
}

/** Uploads `sizeBytes` generated on the fly, downloads it back, and samples memory throughout. */
export async function streamRoundTrip(options: RoundTripOptions): Promise<RoundTripResult> {
  const gcEveryMs = options.gcEveryMs;
  if (gcEveryMs !== undefined) forceGc();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakArrayBuffers = base.arrayBuffers;
  let peakHeld = base.heapUsed + base.arrayBuffers;
  let samples = 0;
  let gcMs = 0;
  const sample = () => {
    if (gcEveryMs !== undefined) {
      const s = performance.now();
      samples += 1;
      forceGc('major');
      gcMs += performance.now() - s;
    }
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
    peakHeld = Math.max(peakHeld, m.heapUsed + m.arrayBuffers);
  };
  const timer = setInterval(sample, gcEveryMs ?? options.sampleMs ?? 20);
  try {
    const upHash = createHash('sha256');
    const query = new URLSearchParams({
      path: options.path,
      conflictBehavior: 'replace',
      size: String(options.sizeBytes),
    });
    const started = performance.now();
    const upload = await postStream(
      `${options.api}/files/upload?${query.toString()}`,
      { ...options.headers, 'content-type': 'application/octet-stream' },
      generated(options.sizeBytes, upHash),
    );
    const item: unknown = JSON.parse(upload.text);
    const uploadMs = performance.now() - started;

    const downHash = createHash('sha256');
    let downloadedBytes = 0;
    const downStarted = performance.now();
    const download = await fetch(
      `${options.api}/files/download?${new URLSearchParams({ path: options.path }).toString()}`,
      {
        headers: options.headers,
      },
    );
    if (download.body) {
      for await (const chunk of download.body as unknown as AsyncIterable<Uint8Array>) {
        downHash.update(chunk);
        downloadedBytes += chunk.length;
      }
    }
    const downloadMs = performance.now() - downStarted;
    sample();
    return {
      sizeBytes: options.sizeBytes,
      uploadMs,
      downloadMs,
      uploadSha256: upHash.digest('hex'),
      downloadSha256: downHash.digest('hex'),
      downloadedBytes,
      uploadStatus: upload.status,
      downloadStatus: download.status,
      item,
      peakRssGrowthBytes: peakRss - base.rss,
      peakArrayBuffersGrowthBytes: peakArrayBuffers - base.arrayBuffers,
      peakHeldGrowthBytes: peakHeld - (base.heapUsed + base.arrayBuffers),
      gcEveryMs: gcEveryMs ?? null,
      gcSamples: samples,
      gcMs: Math.round(gcMs),
    };
  } finally {
    clearInterval(timer);
  }
}

const MB = 1024 * 1024;

export function summary(r: RoundTripResult): Record<string, unknown> {
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    bench: 'files-stream',
    sizeMB: round(r.sizeBytes / MB),
    uploadMBps: round(r.sizeBytes / MB / (r.uploadMs / 1000)),
    downloadMBps: round(r.sizeBytes / MB / (r.downloadMs / 1000)),
    peakRssGrowthMB: round(r.peakRssGrowthBytes / MB),
    peakArrayBuffersGrowthMB: round(r.peakArrayBuffersGrowthBytes / MB),
    peakHeldGrowthMB: round(r.peakHeldGrowthBytes / MB),
    rssGrowthToFileSize: Math.round((r.peakRssGrowthBytes / r.sizeBytes) * 1000) / 1000,
    gcEveryMs: r.gcEveryMs,
    identical: r.uploadSha256 === r.downloadSha256 && r.downloadedBytes === r.sizeBytes,
  };
}

/**
 * The whole stack in this process (scripts/harness.ts: sandbox, local Functions host, one
 * connected user; Azurite from withAzurite). Returns a BenchResult for bench/run.ts and prints
 * the summary as one JSON line.
 */
export async function filesStream(sizeMB = 100): Promise<BenchResult> {
  const t = await startAppHarness();
  try {
    const userId = await t.connect('adele.vance@contoso.test', { features: ['files'] });
    const headers = { 'x-functions-key': FUNCTION_KEY, authorization: `Bearer ${await t.tokenFor(userId)}` };
    // Warm-up (code paths, connection pools) so the measurement is the transfer itself.
    await streamRoundTrip({ api: t.api, headers, path: '/Bench/warmup.bin', sizeBytes: 12 * MB });
    const path = `/Bench/${sizeMB}mb.bin`;
    // As V8 runs by itself (GC slack included), then sampled after forced GCs (memory held).
    const natural = summary(await streamRoundTrip({ api: t.api, headers, path, sizeBytes: sizeMB * MB }));
    console.log(JSON.stringify(natural));
    const held = summary(
      await streamRoundTrip({ api: t.api, headers, path, sizeBytes: sizeMB * MB, gcEveryMs: 50 }),
    );
    console.log(JSON.stringify(held));
    if (natural.identical !== true || held.identical !== true)
      throw new Error('the downloaded bytes differ from the uploaded ones');
    return {
      name: `files: ${sizeMB} MB up + down through the functions, peak memory held / file size`,
      value: Math.round((Number(held.peakHeldGrowthMB) / sizeMB) * 1000) / 1000,
      unit: 'ratio',
      detail: {
        uploadMBps: natural.uploadMBps,
        downloadMBps: natural.downloadMBps,
        peakHeldGrowthMB: held.peakHeldGrowthMB,
        peakRssGrowthMB: natural.peakRssGrowthMB,
        peakArrayBuffersGrowthMB: natural.peakArrayBuffersGrowthMB,
        peakRssGrowthMBWithGc: held.peakRssGrowthMB,
      },
    };
  } finally {
    await t.stop();
  }
}

if (require.main === module) {
  withAzurite(async () => await filesStream(Number(process.argv[2] ?? 100)))
    .then(() => process.exit(0))
    .catch((err: unknown) => {
      console.error(`files-stream bench failed: ${(err as Error).message}`);
      process.exit(1);
    });
}
