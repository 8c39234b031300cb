/**
 * How long "mail arrived → assistant told" takes (issue 36): a mail is sent in the sandbox (which
 * delivers its change notification at once) and the time is taken until (a) the change-feed
 * entry is pushed, (b) the signed event reaches a local receiver (verified with the
 * `standardwebhooks` package), (c) the user's MCP client gets notifications/resources/updated.
 * Once for single changes one after another, once for a burst of 500 changes across 50 users.
 * The sandbox, app, receiver and MCP clients share this process; Azurite runs in its own (as
 * Storage is a separate service in Azure).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Webhook } from 'standardwebhooks';
import { FUNCTION_KEY, MASTER_KEY, startAppHarness, type TestApp } from '../scripts/harness';
import { onPushed } from '../shared/sync/feed';
import { percentile, round, type BenchResult } from './harness';

interface Timing {
  userId: string;
  sentAt: number;
  feedAt?: number;
  eventAt?: number;
  mcpAt?: number;
}

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stats(values: number[]) {
  if (values.length === 0) return { p50Ms: null, p95Ms: null, p99Ms: null };
  return {
    p50Ms: round(percentile(values, 50)),
    p95Ms: round(percentile(values, 95)),
    p99Ms: round(percentile(values, 99)),
  };
}

export async function eventsLatency(
  burst = 500,
  users = 50,
  singles = 20,
  mcpClients = Number(process.env.BENCH_MCP_CLIENTS ?? users),
): Promise<BenchResult[]> {
  process.env.EVENTS_SIGNING_SECRETS = SECRET;
  const t: TestApp = await startAppHarness({ env: { EVENTS_SIGNING_SECRETS: SECRET } });
  const bySubject = new Map<string, Timing>();
  const mcpTimes = new Map<string, number[]>();
  const clients: Client[] = [];
  let receiver: Server | undefined;
  let badSignatures = 0;
  try {
    // (a) the feed: the push of the entry, seen in this process.
    onPushed(async (_userId, entries) => {
      const now = performance.now();
      for (const e of entries) {
        const subject = (e.summary as { subject?: string } | null)?.subject;
        const timing = subject ? bySubject.get(subject) : undefined;
        if (timing && timing.feedAt === undefined) timing.feedAt = now;
      }
    });
    // (b) the platform's receiver.
    const wh = new Webhook(SECRET);
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const now = performance.now();
        try {
          const event = wh.verify(Buffer.concat(chunks).toString('utf8'), {
            'webhook-id': String(req.headers['webhook-id']),
            'webhook-timestamp': String(req.headers['webhook-timestamp']),
            'webhook-signature': String(req.headers['webhook-signature']),
          }) as { data?: { summary?: { subject?: string } } };
          const timing = bySubject.get(event.data?.summary?.subject ?? '');
          if (timing && timing.eventAt === undefined) timing.eventAt = now;
        } catch {
          badSignatures += 1;
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
    const registered = await fetch(`${t.api}/events/endpoints`, {
      method: 'PUT',
      headers: { 'x-functions-key': MASTER_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook, types: ['mail.*'] }),
    });
    if (registered.status !== 200) throw new Error(`endpoint registration: ${registered.status}`);

    // 50 users, each connected, each with an MCP client subscribed to its mail changes.
    const upns: string[] = [];
    for (let i = 0; i < users; i++) {
      const upn = `bench.user${i}@contoso.test`;
      if (!t.sandbox.directory.findUser(upn)) {
        t.sandbox.directory.addUser({ userPrincipalName: upn, displayName: `Bench User ${i}` });
      }
      upns.push(upn);
    }
    const ids: string[] = [];
    for (const upn of upns) ids.push(await t.connect(upn, { features: ['mail'] }));
    await Promise.all(
      ids.slice(0, mcpClients).map(async (userId) => {
        const client = new Client({ name: 'bench', version: '1.0.0' });
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => {
          const list = mcpTimes.get(userId) ?? [];
          list.push(performance.now());
          mcpTimes.set(userId, list);
        });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(`${t.api}/mcp`), {
            requestInit: {
              headers: {
                'x-functions-key': FUNCTION_KEY,
                authorization: `Bearer ${await t.tokenFor(userId)}`,
              },
            },
          }),
        );
        await client.subscribeResource({ uri: 'm365://changes/mail' });
        clients.push(client);
      }),
    );
    await sleep(1000); // every GET stream open

    const { access_token: senderToken } = (await (
      await fetch(`${t.sandbox.url}/_sandbox/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'megan.bowen@contoso.test', scopes: ['Mail.Send'] }),
      })
    ).json()) as { access_token: string };
    const send = async (to: string, subject: string, userId: string) => {
      bySubject.set(subject, { userId, sentAt: performance.now() });
      const res = await fetch(`${t.sandbox.graphBaseUrl}/me/sendMail`, {
        method: 'POST',
        headers: { authorization: `Bearer ${senderToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          message: {
            subject,
            body: { contentType: 'text', content: '.' },
            toRecipients: [{ emailAddress: { address: to } }],
          },
          saveToSentItems: false,
        }),
      });
      if (res.status !== 202) throw new Error(`sendMail ${res.status}`);
    };
    const complete = (subjects: string[]) =>
      subjects.every((s) => {
        const timing = bySubject.get(s)!;
        const watched = ids.indexOf(timing.userId) < mcpClients;
        const mcp = (mcpTimes.get(timing.userId) ?? []).some((at) => at >= (timing.feedAt ?? Infinity));
        return timing.feedAt !== undefined && timing.eventAt !== undefined && (mcp || !watched);
      });
    const waitFor = async (subjects: string[], limitMs: number) => {
      const started = Date.now();
      while (!complete(subjects) && Date.now() - started < limitMs) await sleep(20);
    };
    const measure = (subjects: string[]) => {
      const feed: number[] = [];
      const event: number[] = [];
      const mcp: number[] = [];
      let missing = 0;
      for (const s of subjects) {
        const timing = bySubject.get(s)!;
        const told = (mcpTimes.get(timing.userId) ?? []).filter((at) => at >= (timing.feedAt ?? Infinity));
        const watched = ids.indexOf(timing.userId) < mcpClients;
        if (timing.feedAt === undefined || timing.eventAt === undefined || (watched && told.length === 0)) {
          missing += 1;
          continue;
        }
        feed.push(timing.feedAt - timing.sentAt);
        event.push(timing.eventAt - timing.sentAt);
        if (watched) mcp.push(Math.min(...told) - timing.sentAt);
      }
      return { feed, event, mcp, missing };
    };

    // One change at a time.
    const single: string[] = [];
    for (let i = 0; i < singles; i++) {
      const subject = `single-${i}-${randomBytes(3).toString('hex')}`;
      single.push(subject);
      await send(upns[i % upns.length]!, subject, ids[i % ids.length]!);
      await waitFor([subject], 30_000);
    }
    const one = measure(single);

    // A burst: 500 changes across 50 users, sent 25 at a time.
    const subjects = Array.from({ length: burst }, (_, i) => `burst-${i}-${randomBytes(3).toString('hex')}`);
    let next = 0;
    const burstStarted = performance.now();
    await Promise.all(
      Array.from({ length: 25 }, async () => {
        while (next < burst) {
          const i = next++;
          await send(upns[i % upns.length]!, subjects[i]!, ids[i % ids.length]!);
        }
      }),
    );
    await waitFor(subjects, 120_000);
    const many = measure(subjects);
    const burstSeconds = (performance.now() - burstStarted) / 1000;

    const setup = 'one process: sandbox, local host, receiver and 50 MCP clients; Azurite in a child process';
    return [
      {
        name: 'push latency p95, one change: mail sent → signed event received',
        value: round(percentile(one.event, 95)),
        unit: 'ms',
        detail: {
          changes: singles,
          missing: one.missing,
          feed: stats(one.feed),
          event: stats(one.event),
          mcp: stats(one.mcp),
          badSignatures,
          setup,
        },
      },
      {
        name: `push latency p95, burst of ${burst} changes across ${users} users: mail sent → signed event received`,
        value: round(percentile(many.event, 95)),
        unit: 'ms',
        detail: {
          changes: burst,
          users,
          missing: many.missing,
          feed: stats(many.feed),
          event: stats(many.event),
          mcp: stats(many.mcp),
          sendSeconds: round(burstSeconds),
          goal: 'p95 under 1000 ms',
          setup,
        },
      },
      {
        name: `push latency p95, burst of ${burst} changes across ${users} users: mail sent → MCP notification`,
        value: many.mcp.length ? round(percentile(many.mcp, 95)) : 0,
        unit: 'ms',
        detail: { ...stats(many.mcp), tickPollMs: 250, setup },
      },
    ];
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    if (receiver) await new Promise((r) => receiver!.close(r));
    await t.stop();
  }
}
