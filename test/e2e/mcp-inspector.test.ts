/**
 * The MCP inspector's CLI (@modelcontextprotocol/inspector 2, headless) connects with no
 * credentials (issue 37): it meets the 401, discovers, registers itself, and asks the user to
 * open the authorization URL; the cookie-keeping test browser signs in at the sandbox's Microsoft
 * and allows it on our consent screen; the redirect reaches the CLI's own loopback listener, and
 * it lists the tools. A second run calls a tool with the token it kept.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, type TestApp } from '../support/app';
import { freePort } from '../support/ports';
import { authorizeInBrowser, MiniBrowser } from '../support/oauth-browser';

const ADELE = 'adele.vance@contoso.test';
const CLI = join(
  __dirname,
  '..',
  '..',
  'node_modules',
  '@modelcontextprotocol',
  'inspector',
  'clients',
  'launcher',
  'build',
  'index.js',
);

let t: TestApp;
let home: string;

beforeAll(async () => {
  t = await startTestApp();
  home = mkdtempSync(join(tmpdir(), 'inspector-home-'));
});
afterAll(async () => {
  await t.stop();
  rmSync(home, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onUrl` gets the authorization URL it asks the user to open, if it asks. */
function inspector(args: string[], onUrl?: (url: string) => Promise<void>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--cli', ...args], {
      env: {
        ...process.env,
        HOME: home,
        // Headless: print the URL instead of asking for a TTY, and never open a real browser.
        MCP_AUTO_OPEN_ENABLED: 'true',
        BROWSER: 'true',
        MCP_INSPECTOR_SECRET_STORE: 'file',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let asked = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const url = /navigate to: (\S+)/.exec(stderr)?.[1];
      if (url && !asked && onUrl) {
        asked = true;
        onUrl(url).catch((err: unknown) => {
          child.kill('SIGKILL');
          reject(err instanceof Error ? err : new Error(String(err)));
        });
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('the inspector CLI goes from no credentials to the tool list through Microsoft sign-in and consent, then calls a tool', async () => {
  const callback = `http://127.0.0.1:${await freePort()}/oauth/callback`;
  const server = `${t.api}/mcp`;
  let consentShown = '';
  const listed = await inspector(
    ['--callback-url', callback, '--method', 'tools/list', '--format', 'json', server],
    async (url) => {
      expect(url.startsWith(`${t.api}/oauth/authorize?`)).toBe(true);
      const { redirect, consent } = await authorizeInBrowser(new MiniBrowser(), url, {
        upn: ADELE,
        redirectPrefix: callback,
      });
      consentShown = consent?.body ?? '';
      // The browser lands on the CLI's own listener, which takes the code.
      await fetch(redirect!);
    },
  );
  expect({ code: listed.code, stderr: listed.code === 0 ? '' : listed.stderr }).toEqual({
    code: 0,
    stderr: '',
  });
  expect(consentShown).toContain(ADELE);
  const tools = (
    JSON.parse(listed.stdout) as { result: { tools: Array<{ name: string }> } }
  ).result.tools.map((x) => x.name);
  expect(tools).toEqual(expect.arrayContaining(['mail.listMessages', 'profile.getMe']));

  // The token it stored serves the next run with no sign-in.
  const called = await inspector([
    '--callback-url',
    callback,
    '--stored-auth-only',
    '--method',
    'tools/call',
    '--tool-name',
    'profile.getMe',
    '--format',
    'json',
    server,
  ]);
  expect({ code: called.code, stderr: called.code === 0 ? '' : called.stderr }).toEqual({
    code: 0,
    stderr: '',
  });
  expect(called.stdout).toContain(ADELE);
}, 120000);
