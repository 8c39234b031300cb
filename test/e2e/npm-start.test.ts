/**
 * What a newcomer does first: `npm start` builds, starts Azurite, the sandbox and the local host,
 * answers /api/health within 20 s, and Ctrl-C (SIGINT to the process group) leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('npm start answers /api/health within 20 s and stops cleanly on SIGINT', async () => {
  const [port, sandboxPort, queuePort, tablePort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const dataDir = mkdtempSync(join(tmpdir(), 'm365-start-'));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    SANDBOX_PORT: String(sandboxPort),
    AZURITE_QUEUE_PORT: String(queuePort),
    AZURITE_TABLE_PORT: String(tablePort),
    AZURITE_LOCATION: dataDir,
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    MICROSOFT_AUTHORITY_HOST: `https://127.0.0.1:${sandboxPort}`,
    GRAPH_BASE_URL: `https://127.0.0.1:${sandboxPort}/v1.0`,
    MICROSOFT_REDIRECT_URI: `http://localhost:${port}/api/auth/microsoft/callback`,
    PUBLIC_BASE_URL: `http://localhost:${port}`,
  };
  const started = Date.now();
  const child = spawn('npm', ['start'], {
    cwd: join(__dirname, '..', '..'),
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    let health:
      { status: number; body: { status: string; parts: Array<{ name: string; ok: boolean }> } } | undefined;
    while (Date.now() - started < 20000) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/health`);
        health = { status: res.status, body: await res.json() };
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(health?.body.parts.filter((part) => !part.ok)).toEqual([]);
    expect(health?.status).toBe(200);
    expect(health?.body.parts.map((p) => p.name)).toEqual(
      expect.arrayContaining(['configuration', 'tableStorage', 'queueStorage', 'identityAuthority', 'graph']),
    );
    expect(Date.now() - started).toBeLessThan(20000);
  } finally {
    process.kill(-child.pid!, 'SIGINT');
    await exited;
  }
  expect(output).toContain('ready');
  for (const p of [port, sandboxPort, queuePort, tablePort]) expect(await portOpen(p)).toBe(false);
  rmSync(dataDir, { recursive: true, force: true });
}, 45000);
