/**
 * A platform's event receiver for the events e2e tests: verifies every delivery with the
 * `standardwebhooks` package (an independent implementation of the spec) against each secret it
 * knows, answers what `answer` says, records the 2xx ones, and can hold one delivery open (a
 * request left unanswered, for the kill -9 test).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Delivery {
  id: string;
  body: Json;
  /** The secrets whose signature verified. */
  verifiedWith: string[];
}

const HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];

export class EventReceiver {
  server!: Server;
  url = '';
  deliveries: Delivery[] = [];
  /** Deliveries no known secret verified (answered 401). */
  rejected = 0;
  answer: () => number = () => 204;
  /** A delivery whose summary subject this names is held open, never answered; `held` is told. */
  holdSubject?: string;
  held?: (webhookId: string) => void;

  constructor(public secrets: string[]) {}

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.receive(Buffer.concat(chunks).toString('utf8'), req, res));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/m365/events`;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server.close(r));
  }

  private receive(payload: string, req: IncomingMessage, res: ServerResponse): void {
    const headers = Object.fromEntries(HEADERS.map((h) => [h, String(req.headers[h])]));
    const verifiedWith = this.secrets.filter((s) => {
      try {
        new Webhook(s).verify(payload, headers);
        return true;
      } catch {
        return false;
      }
    });
    if (verifiedWith.length === 0) {
      this.rejected++;
      res.writeHead(401).end();
      return;
    }
    const body = JSON.parse(payload) as Json;
    const id = headers['webhook-id']!;
    if (this.holdSubject && body.data?.summary?.subject === this.holdSubject) {
      this.holdSubject = undefined;
      res.on('error', () => undefined);
      this.held?.(id);
      return;
    }
    const status = this.answer();
    if (status >= 200 && status < 300) this.deliveries.push({ id, body, verifiedWith });
    res.writeHead(status).end();
  }

  /** Unique deliveries by webhook-id, in first-arrival order. */
  unique(): Delivery[] {
    const seen = new Set<string>();
    return this.deliveries.filter((d) => !seen.has(d.id) && seen.add(d.id));
  }

  async waitFor(count: number, what: string, timeoutMs = 30000): Promise<Delivery[]> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.unique().length >= count) return this.unique();
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`receiver got ${this.unique().length} of ${count} ${what}`);
  }
}
