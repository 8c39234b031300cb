/**
 * The webhook endpoints' behaviour, in Graph's order (style.md 14, graph-behaviour.md §6.3–6.4):
 * (a) `validationToken` → 200 `text/plain` with the decoded token and nothing else;
 * (b) parse the body; (c) clientState per item in constant time, drop mismatches;
 * (d) enqueue and answer 202 well within Graph's 3 seconds; 503 when nothing could be persisted.
 * Anonymous by nature (Graph sends no credentials): the clientState is the authentication.
 */
import { recordWebhookAck } from '../telemetry';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { Problem } from '../http/problem';
import { readJson } from '../http/validate';
import type { Logger } from './manager';
import { acceptNotifications, NotificationsUnavailable } from './notifications';

/** Graph's tokens are about 100 characters; anything much longer is not Graph. */
const MAX_VALIDATION_TOKEN = 1024;
/**
 * Graph waits 3 s for the answer (§6.4). Storage SDK retries can take far longer during an
 * outage, so after this long the webhook stops waiting and answers 503: Graph retries, and if the
 * write did land after all, the duplicate is harmless (the worker is idempotent).
 */
const PERSIST_DEADLINE_MS = 2500;
/** One POST carries at most a few hundred notifications of a few hundred bytes each. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * The echo is opaque text: served as text/plain with nosniff and a CSP that runs nothing, so a
 * token carrying markup can never become a page (validation include: "treat the token as opaque
 * and escape it").
 */
function validationEcho(token: string): HttpResponseInit {
  if (token.length > MAX_VALIDATION_TOKEN) {
    throw new Problem('invalid_input', `validationToken may be at most ${MAX_VALIDATION_TOKEN} characters.`);
  }
  return {
    status: 200,
    body: token,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': 'no-store',
    },
  };
}

export async function handleGraphWebhook(
  request: HttpRequest,
  log: Logger,
  route: 'notifications' | 'lifecycle',
): Promise<HttpResponseInit> {
  const token = request.query.get('validationToken');
  if (token !== null) return validationEcho(token);
  const received = performance.now();
  const body = await readJson(request, MAX_BODY_BYTES);
  try {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new NotificationsUnavailable(Object.assign(new Error('deadline'), { name: 'Timeout' }))),
        PERSIST_DEADLINE_MS,
      );
    });
    const result = await Promise.race([acceptNotifications(body, route, log), deadline]).finally(() =>
      clearTimeout(timer),
    );
    if (result.accepted > 0 || result.dropped > 0) {
      log.log(JSON.stringify({ event: 'webhook_received', route, ...result }));
    }
  } catch (err) {
    if (!(err instanceof NotificationsUnavailable)) throw err;
    const cause = err.cause as { name?: string; code?: string; statusCode?: number };
    log.error(
      JSON.stringify({
        event: 'webhook_persist_failed',
        route,
        error: cause?.name,
        code: cause?.code,
        statusCode: cause?.statusCode,
      }),
    );
    // 5xx makes Graph retry (for up to 4 hours, §6.4): nothing is dropped silently.
    throw new Problem(
      'storage_unavailable',
      'Notifications could not be stored; retry.',
      {},
      { 'retry-after': '5' },
    );
  }
  recordWebhookAck(performance.now() - received);
  return { status: 202, headers: { 'cache-control': 'no-store' } };
}
