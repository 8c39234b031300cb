/**
 * MCP push: the GET stream of a session (streamable HTTP, "listening for messages from the
 * server"), on which `notifications/resources/updated` announces new change-feed entries for the
 * resources the session subscribed to (https://modelcontextprotocol.io/specification/2025-06-18/server/resources#subscriptions).
 *
 * The instance holding the stream learns of new entries from storage, never from another
 * instance's memory: each feed push writes a tick (shared/mcp/ticks.ts) that one poller per
 * instance reads every 250 ms, waking the streams of that user; the stream then reads the feed
 * counter, the session's subscriptions and the new entries' services. (A check every 30 s, in
 * case a tick was missed, costs one read.) Each notification's SSE `id` is the feed sequence it
 * covers, so a client reconnecting with `Last-Event-ID` is told about whatever arrived while it
 * was away. The stream opens with a priming event (an id, no data) and ends after MAX_STREAM_MS;
 * the SDK client reconnects with the last id (the `retry` field says how soon).
 */
import { listChanges, onPushed } from '../sync/feed';
import { subscribedService } from './changes';
import { latestFeedSeq } from './feed';
import { sessionSubscriptions } from './subscriptions';
import { recordTick, watchUser } from './ticks';

const FALLBACK_CHECK_MS = 30_000;
const PING_MS = 15_000;
const MAX_STREAM_MS = 5 * 60_000;
const RETRY_MS = 500;
/** How often a stream looks at its wake flag (in memory: no storage read unless woken). */
const WAKE_MS = 50;

// Every feed push leaves a tick for the instances holding streams (shared/mcp/ticks.ts).
onPushed(async (userId, entries) => {
  const last = entries.at(-1);
  if (last) await recordTick(userId, last.seq);
});

const encoder = new TextEncoder();

/** Which subscribed URIs the entries after `after` (up to `latest`) touch. */
async function touched(userId: string, uris: string[], after: number, latest: number): Promise<string[]> {
  const services = new Set<string>();
  let cursor = after;
  while (cursor < latest) {
    const page = await listChanges(userId, { after: cursor, limit: 1000 });
    for (const e of page.items) services.add(e.service);
    if (!page.hasMore || page.items.length === 0) break;
    cursor = Number(page.nextCursor);
  }
  return uris.filter((uri) => {
    const service = subscribedService(uri);
    return service === undefined ? services.size > 0 : service !== null && services.has(service);
  });
}

/** The SSE body of a session's GET stream; closes when `signal` aborts or after MAX_STREAM_MS. */
export function pushStream(
  userId: string,
  session: string,
  lastEventId: number | undefined,
  signal: AbortSignal | undefined,
  log: { warn(msg: string): void },
): ReadableStream<Uint8Array> {
  let timer: NodeJS.Timeout | undefined;
  let unwatch: (() => void) | undefined;
  let closed = false;
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const started = Date.now();
      let cursor = lastEventId ?? (await latestFeedSeq(userId));
      let lastWrite = Date.now();
      let lastCheck = 0;
      let woken = lastEventId !== undefined; // a resumed stream looks at once
      const write = (text: string) => {
        if (closed) return;
        controller.enqueue(encoder.encode(text));
        lastWrite = Date.now();
      };
      const stopWatching = watchUser(userId, (seq) => {
        if (seq > cursor) woken = true;
      });
      const close = () => {
        if (closed) return;
        closed = true;
        clearTimeout(timer);
        stopWatching();
        controller.close();
      };
      signal?.addEventListener('abort', close, { once: true });
      // Priming event: the id to resume from, and how soon to come back.
      write(`retry: ${RETRY_MS}\nid: ${cursor}\ndata: \n\n`);
      const tick = async () => {
        if (closed) return;
        try {
          if (woken || Date.now() - lastCheck >= FALLBACK_CHECK_MS) {
            woken = false;
            lastCheck = Date.now();
            const latest = await latestFeedSeq(userId);
            if (latest > cursor) {
              const uris = await sessionSubscriptions(userId, session);
              for (const uri of uris.length ? await touched(userId, uris, cursor, latest) : []) {
                const message = {
                  jsonrpc: '2.0',
                  method: 'notifications/resources/updated',
                  params: { uri },
                };
                write(`id: ${latest}\nevent: message\ndata: ${JSON.stringify(message)}\n\n`);
              }
              cursor = latest;
            }
          }
          if (Date.now() - lastWrite >= PING_MS) write(': ping\n\n');
        } catch (err) {
          log.warn(JSON.stringify({ event: 'mcp_push_check_failed', error: (err as Error).name }));
        }
        if (Date.now() - started >= MAX_STREAM_MS) close();
        else if (!closed) {
          timer = setTimeout(() => void tick(), WAKE_MS);
          // A stream never keeps a process alive by itself (tests, shutdown).
          timer.unref?.();
        }
      };
      unwatch = stopWatching;
      timer = setTimeout(() => void tick(), WAKE_MS);
      timer.unref?.();
    },
    cancel() {
      closed = true;
      clearTimeout(timer);
      unwatch?.();
    },
  });
}
