/**
 * What a newcomer does first: `npm start` builds, starts Azurite, the sandbox and the local host,
 * answers /api/health within 20 s, and Ctrl-C (SIGINT to the process group) leaves nothing behind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runNpm } from '../support/npm-start';
import { freePort, portOpen } from '../support/ports';

test('npm start answers /api/health within 20 s and stops cleanly on SIGINT', async () => {
  const [port, sandboxPort, browserPort, queuePort, tablePort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const dataDir = mkdtempSync(join(tmpdir(), 'm365-start-'));
  // Only the ports are given: the sample's URLs (redirect URI, public URL, sandbox authority and
  // Graph) follow PORT and SANDBOX_PORT.
  const started = Date.now();
  const run = runNpm(['start'], {
    PORT: String(port),
    SANDBOX_PORT: String(sandboxPort),
    SANDBOX_BROWSER_PORT: String(browserPort),
    AZURITE_QUEUE_PORT: String(queuePort),
    AZURITE_TABLE_PORT: String(tablePort),
    AZURITE_LOCATION: join(dataDir, 'azurite'),
    SANDBOX_STATE_DIR: join(dataDir, 'sandbox'),
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  });
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
    await run.interrupt();
  }
  expect(run.output()).toContain('ready');
  for (const p of [port, sandboxPort, browserPort, queuePort, tablePort])
    expect(await portOpen(p)).toBe(false);
  rmSync(dataDir, { recursive: true, force: true });
}, 45000);

/** Runs `npm start` with these settings and returns its exit code and output (it must not get far). */
async function startFails(
  extra: Record<string, string | undefined>,
): Promise<{ code: number | null; output: string }> {
  const run = runNpm(['start'], {
    PORT: String(await freePort()),
    SANDBOX_PORT: String(await freePort()),
    SANDBOX_BROWSER_PORT: String(await freePort()),
    ...extra,
  });
  const code = await run.exited;
  return { code, output: run.output() };
}

describe('bad settings stop npm start before "ready"', () => {
  test('a missing secret is named, with what to do; exit code non-zero', async () => {
    const { code, output } = await startFails({ MICROSOFT_CLIENT_SECRET: '' });
    expect(code).not.toBe(0);
    expect(output).toContain('MICROSOFT_CLIENT_SECRET is missing');
    expect(output).toContain('nothing was started');
    expect(output).not.toContain('ready');
  }, 45000);

  test('a redirect URI whose port is not where the local host listens is named', async () => {
    const { code, output } = await startFails({
      MICROSOFT_REDIRECT_URI: 'http://localhost:1/api/auth/microsoft/callback',
    });
    expect(code).not.toBe(0);
    expect(output).toMatch(
      /MICROSOFT_REDIRECT_URI is http:\/\/localhost:1\/api\/auth\/microsoft\/callback, but the local host listens on port \d+/,
    );
    expect(output).not.toContain('ready');
  }, 45000);

  test('malformed settings JSON names the file, line and column', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm365-settings-'));
    const file = join(dir, 'local.settings.json');
    writeFileSync(file, '{\n  "Values": {\n    "PORT": "7071",\n  }\n}\n');
    try {
      const { code, output } = await startFails({ LOCAL_SETTINGS_PATH: file });
      expect(code).not.toBe(0);
      expect(output).toContain(`${file}:4:3: not valid JSON`);
      expect(output).not.toContain('ready');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 45000);
});

test('the quick build removes output whose source is gone (a moved function would register twice)', () => {
  const root = join(__dirname, '..', '..');
  const stale = join(root, 'dist', 'functions', 'moved-away-by-a-refactor.js');
  mkdirSync(dirname(stale), { recursive: true });
  writeFileSync(stale, '// its source was moved\n');
  writeFileSync(`${stale}.map`, '{}');
  const out = execFileSync(process.execPath, [join(root, 'scripts', 'build-fast.mjs')], {
    cwd: root,
  }).toString();
  expect(existsSync(stale)).toBe(false);
  expect(existsSync(`${stale}.map`)).toBe(false);
  expect(out).toMatch(/\(\d+ stale outputs removed\)/);
  expect(existsSync(join(root, 'dist', 'functions', 'actions.js'))).toBe(true);
});
