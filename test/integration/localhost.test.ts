/**
 * The local host serves recorded registrations with the Functions host's semantics: routes and
 * params, 404 / 405, function keys, streamed bodies, queue retries and poison queues, timers on
 * demand through the admin API.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { HttpRequest, InvocationContext } from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';
import { startLocalHost, compileRoute, type LocalHost } from '../../scripts/localhost';
import { registerHttp, registerQueue, registerTimer, registrations } from '../../shared/runtime/register';
import { enqueue } from '../../shared/storage/clients';

const suffix = randomUUID().slice(0, 8);
const failingQueue = `fails-${suffix}`;
const okQueue = `works-${suffix}`;
const attempts: number[] = [];
const received: unknown[] = [];
const timerRuns: string[] = [];

registerHttp('echo', {
  route: 'items/{id}/{*rest}',
  methods: ['GET', 'POST'],
  authLevel: 'anonymous',
  handler: async (req: HttpRequest, ctx: InvocationContext) => ({
    status: 200,
    jsonBody: {
      params: req.params,
      q: req.query.get('q'),
      method: req.method,
      body: req.method === 'POST' ? await req.text() : null,
      fn: ctx.functionName,
    },
    cookies: [{ name: 'seen', value: '1', httpOnly: true, sameSite: 'Strict' }],
  }),
});
registerHttp('secret', {
  route: 'secret',
  methods: ['GET'],
  authLevel: 'function',
  handler: async () => ({ status: 200, body: 'ok' }),
});
registerHttp('adminOnly', {
  route: 'admin-only',
  methods: ['DELETE'],
  authLevel: 'admin',
  handler: async () => ({ status: 204 }),
});
registerHttp('hash', {
  route: 'hash',
  methods: ['PUT'],
  authLevel: 'anonymous',
  handler: async (req: HttpRequest) => {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { jsonBody: { size, sha256: hash.digest('hex') } };
  },
});
registerHttp('crash', {
  route: 'crash',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async () => {
    throw new Error('boom at /secret/path');
  },
});
registerQueue('alwaysFails', {
  queueName: failingQueue,
  handler: async (_msg: unknown, ctx: InvocationContext) => {
    attempts.push(Number(ctx.triggerMetadata?.dequeueCount));
    throw new Error('cannot process');
  },
});
registerQueue('works', { queueName: okQueue, handler: async (msg: unknown) => void received.push(msg) });
// Correlation: a request queues work, that work queues more; every line names where it began.
const firstHop = `hop-one-${suffix}`;
const secondHop = `hop-two-${suffix}`;
const hostLines: string[] = [];
registerHttp('startsWork', {
  route: 'starts-work',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: async (_req, ctx) => {
    ctx.log(JSON.stringify({ event: 'work_started' }));
    await enqueue(firstHop, { step: 1 });
    return { status: 202, jsonBody: { invocationId: ctx.invocationId } };
  },
});
registerQueue('hopOne', {
  queueName: firstHop,
  handler: async (msg: unknown, ctx: InvocationContext) => {
    ctx.log(JSON.stringify({ event: 'hop_one', message: msg }));
    await enqueue(secondHop, { step: 2 });
  },
});
registerQueue('hopTwo', {
  queueName: secondHop,
  handler: async (_msg: unknown, ctx: InvocationContext) => {
    ctx.warn('plain text line');
  },
});

// One message that waits for the test, and quick ones queued behind it.
const mixedQueue = `mixed-${suffix}`;
let releaseSlow: () => void = () => undefined;
const slowDone = new Promise<void>((r) => (releaseSlow = r));
const quickDone: number[] = [];
registerQueue('mixed', {
  queueName: mixedQueue,
  handler: async (msg: unknown) => {
    const { n } = msg as { n: number };
    if (n === 0) await slowDone;
    else quickDone.push(n);
  },
});
const scheduledRuns: number[] = [];
let startupRuns = 0;
registerTimer('everySecond', {
  schedule: '*/1 * * * * *',
  handler: async () => void scheduledRuns.push(Date.now()),
});
registerTimer('onStartup', {
  schedule: '0 0 0 1 1 *',
  runOnStartup: true,
  handler: async () => void startupRuns++,
});
registerTimer('tick', {
  schedule: '0 0 0 1 1 *',
  handler: async (_t, ctx) => void timerRuns.push(ctx.invocationId),
});

let host: LocalHost;
beforeAll(async () => {
  host = await startLocalHost({
    registrations: registrations(),
    port: 0,
    functionKey: 'fn-key',
    masterKey: 'master-key',
    queueVisibilityTimeoutMs: 0,
    queuePollMs: 100,
    log: (line) => void hostLines.push(line),
  });
});
afterAll(async () => await host.stop());

describe('HTTP routing', () => {
  test('route params, catch-all, query, body and cookies reach the handler as the host gives them', async () => {
    const res = await fetch(`${host.url}/api/items/a%20b/x/y?q=1`, { method: 'POST', body: 'hello' });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toContain('seen=1; HttpOnly; SameSite=Strict');
    expect(await res.json()).toEqual({
      params: { id: 'a b', rest: 'x/y' },
      q: '1',
      method: 'POST',
      body: 'hello',
      fn: 'echo',
    });
  });

  test('an unknown route is a 404 problem', async () => {
    const res = await fetch(`${host.url}/api/nothing-here`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = await res.json();
    expect(problem.code).toBe('route_not_found');
    // Like every other problem: a requestId, also as the x-request-id header.
    expect(problem.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-request-id')).toBe(problem.requestId);
  });

  test('a method the function does not declare is a 405 with Allow', async () => {
    const res = await fetch(`${host.url}/api/items/1/2`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST');
  });

  test('a missing key and a wrong key are told apart, each with a requestId', async () => {
    const missing = await fetch(`${host.url}/api/secret`);
    expect(await missing.json()).toMatchObject({
      code: 'function_key_required',
      requestId: expect.any(String),
    });
    const wrong = await fetch(`${host.url}/api/secret`, { headers: { 'x-functions-key': 'wrong' } });
    expect(wrong.status).toBe(401);
    const problem = await wrong.json();
    expect(problem).toMatchObject({ code: 'function_key_invalid', requestId: expect.any(String) });
    expect(problem.detail).toContain('not this app');
  });

  test('authLevel function needs the function key in the header or the code query', async () => {
    expect((await fetch(`${host.url}/api/secret`)).status).toBe(401);
    expect((await fetch(`${host.url}/api/secret`, { headers: { 'x-functions-key': 'wrong' } })).status).toBe(
      401,
    );
    expect((await fetch(`${host.url}/api/secret`, { headers: { 'x-functions-key': 'fn-key' } })).status).toBe(
      200,
    );
    expect((await fetch(`${host.url}/api/secret?code=fn-key`)).status).toBe(200);
    expect((await fetch(`${host.url}/api/secret?code=master-key`)).status).toBe(200);
  });

  test('authLevel admin accepts only the master key', async () => {
    expect(
      (
        await fetch(`${host.url}/api/admin-only`, {
          method: 'DELETE',
          headers: { 'x-functions-key': 'fn-key' },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await fetch(`${host.url}/api/admin-only`, {
          method: 'DELETE',
          headers: { 'x-functions-key': 'master-key' },
        })
      ).status,
    ).toBe(204);
  });

  test('request bodies stream through without being buffered by the host', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const total = 20;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < total) controller.enqueue(chunk);
        else controller.close();
      },
    });
    let sent = 0;
    const res = await fetch(`${host.url}/api/hash`, {
      method: 'PUT',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    const expected = createHash('sha256');
    for (let i = 0; i < total; i++) expected.update(chunk);
    expect(await res.json()).toEqual({ size: total * chunk.length, sha256: expected.digest('hex') });
  });

  test('an unhandled error is a 500 problem without the error text', async () => {
    const res = await fetch(`${host.url}/api/crash`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('boom');
    expect(JSON.parse(text).code).toBe('internal_error');
  });

  test('route templates follow the host: optional and constrained params', () => {
    const { regex, names } = compileRoute('api/users/{id:int}/{tab?}');
    expect(names).toEqual(['id', 'tab']);
    expect(regex.test('/api/users/12')).toBe(true);
    expect(regex.test('/api/users/12/files')).toBe(true);
    expect(regex.test('/api/users/abc')).toBe(false);
  });
});

describe('queue triggers', () => {
  test('a message is delivered once, base64-decoded and JSON-parsed', async () => {
    await enqueue(okQueue, { hello: 'world' });
    await waitFor(() => received.length === 1);
    expect(received[0]).toEqual({ hello: 'world' });
  });

  test('a function that keeps throwing lands its message in <queue>-poison after 5 attempts', async () => {
    await enqueue(failingQueue, { id: 42 });
    const poison = QueueServiceClient.fromConnectionString(process.env.AzureWebJobsStorage!).getQueueClient(
      `${failingQueue}-poison`,
    );
    await waitFor(
      async () => (await poison.exists()) && (await poison.peekMessages()).peekedMessageItems.length === 1,
      20000,
    );
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
    const [msg] = (await poison.peekMessages()).peekedMessageItems;
    expect(JSON.parse(Buffer.from(msg!.messageText, 'base64').toString())).toEqual({ id: 42 });
    const main = QueueServiceClient.fromConnectionString(process.env.AzureWebJobsStorage!).getQueueClient(
      failingQueue,
    );
    expect((await main.getProperties()).approximateMessagesCount).toBe(0);
  }, 30000);

  test('one slow message does not hold back the batches behind it (newBatchThreshold)', async () => {
    // The slow one first, then more quick ones than one batch (host.json batchSize 16) holds.
    try {
      await enqueue(mixedQueue, { n: 0 });
      for (let n = 1; n <= 40; n++) await enqueue(mixedQueue, { n });
      await waitFor(() => quickDone.length === 40, 20000);
      expect(quickDone.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    } finally {
      releaseSlow(); // the host's stop waits for it
    }
  }, 30000);
});

describe('correlation', () => {
  test('every line carries its invocation id and the id of the request that started the work, across two queue hops', async () => {
    const res = await fetch(`${host.url}/api/starts-work`, { method: 'POST' });
    expect(res.status).toBe(202);
    const { invocationId } = (await res.json()) as { invocationId: string };
    await waitFor(() => hostLines.some((l) => l.includes('plain text line')));
    const json = (marker: string) => {
      const line = hostLines.find((l) => l.includes(marker))!;
      return JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>;
    };
    expect(json('work_started')).toMatchObject({ invocationId, originId: invocationId });
    const hop = json('hop_one');
    expect(hop.originId).toBe(invocationId);
    expect(hop.invocationId).not.toBe(invocationId);
    // The handler never sees the field: its message is what was queued.
    expect(hop.message).toEqual({ step: 1 });
    const plain = hostLines.find((l) => l.includes('plain text line'))!;
    expect(plain).toContain(`originId=${invocationId}`);
    expect(plain).not.toContain(`invocationId=${invocationId}`);
  });
});

describe('timers', () => {
  test('a timer runs on demand through POST /admin/functions/{name} with the master key', async () => {
    const denied = await fetch(`${host.url}/admin/functions/tick`, { method: 'POST', body: '{}' });
    expect(denied.status).toBe(401);
    const res = await fetch(`${host.url}/admin/functions/tick`, {
      method: 'POST',
      headers: { 'x-functions-key': 'master-key', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(202);
    expect(timerRuns).toHaveLength(1);
  });

  test('timers fire on their 6-field NCRONTAB schedule, and runOnStartup runs once at start', async () => {
    await waitFor(() => scheduledRuns.length >= 2, 4000);
    // Occurrences are whole seconds apart; a loaded machine may start one late, never early.
    const seconds = scheduledRuns.map((at) => Math.floor(at / 1000));
    expect(seconds[1]! - seconds[0]!).toBeGreaterThanOrEqual(1);
    expect(seconds[1]! - seconds[0]!).toBeLessThanOrEqual(2);
    expect(startupRuns).toBe(1);
  });

  test('the admin API answers 404 for an unknown function', async () => {
    const res = await fetch(`${host.url}/admin/functions/nope`, {
      method: 'POST',
      headers: { 'x-functions-key': 'master-key' },
      body: '{}',
    });
    expect(res.status).toBe(404);
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}
