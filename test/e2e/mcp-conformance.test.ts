/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance, its `server` mode) against
 * /api/mcp: the scenarios for what this server advertises (initialize, ping, tools, resources)
 * must pass every check. The suite's client sends no credentials, so a loopback proxy adds the
 * function key and a caller JWT, as the platform would.
 *
 * Not run: scenarios for capabilities the server does not advertise (logging, completions,
 * prompts, resource subscriptions, sampling and elicitation) and those that call the reference
 * "everything" server's fixture tools and resources by name (test_simple_text, test://static-text,
 * ...), which no other server has. Version pinned to 0.1.9: later versions need Node 22.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FUNCTION_KEY, startTestApp, type TestApp } from '../support/app';

const SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'resources-list'];

let t: TestApp;
let proxy: Server;
let url: string;
let workDir: string;

beforeAll(async () => {
  t = await startTestApp();
  const userId = await t.connect('adele.vance@contoso.test', { features: ['mail', 'calendar'] });
  proxy = createServer((req, res) => {
    // The client going away ends the request upstream too (a GET event stream stays open until then).
    const upstream = new AbortController();
    res.on('close', () => upstream.abort());
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers.set(k, v);
      }
      headers.set('x-functions-key', FUNCTION_KEY);
      headers.set('authorization', `Bearer ${await t.tokenFor(userId)}`);
      const answer = await fetch(`${t.api}/mcp`, {
        method: req.method,
        headers,
        ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}),
        signal: upstream.signal,
      });
      const out: Record<string, string> = {};
      answer.headers.forEach((v, k) => {
        if (k !== 'content-length' && k !== 'transfer-encoding') out[k] = v;
      });
      res.writeHead(answer.status, out);
      // Streamed: a GET is the session's event stream, open until the client goes.
      if (!answer.body) return res.end();
      const body = Readable.fromWeb(answer.body as import('node:stream/web').ReadableStream);
      res.on('close', () => body.destroy());
      body.pipe(res);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/mcp`;
  workDir = mkdtempSync(join(tmpdir(), 'mcp-conformance-'));
});

afterAll(async () => {
  await new Promise<void>((r) => proxy.close(() => r()));
  await t.stop();
  rmSync(workDir, { recursive: true, force: true });
});

function runScenario(scenario: string): Promise<{ code: number; output: string }> {
  const cli = join(
    __dirname,
    '..',
    '..',
    'node_modules',
    '@modelcontextprotocol',
    'conformance',
    'dist',
    'index.js',
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, 'server', '--url', url, '--scenario', scenario],
      { cwd: workDir, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

test.each(SCENARIOS)(
  'conformance scenario %s: every check passes',
  async (scenario) => {
    const { code, output } = await runScenario(scenario);
    const dir = readdirSync(join(workDir, 'results')).find((d) => d.startsWith(`server-${scenario}-`));
    expect({ scenario, dir: dir !== undefined, output: dir ? '' : output }).toEqual({
      scenario,
      dir: true,
      output: '',
    });
    const checks = JSON.parse(readFileSync(join(workDir, 'results', dir!, 'checks.json'), 'utf8')) as Array<{
      status: string;
      description: string;
      errorMessage?: string;
    }>;
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.filter((c) => c.status !== 'SUCCESS' && c.status !== 'INFO')).toEqual([]);
    expect(code).toBe(0);
  },
  90_000,
);
