/**
 * An MCP client connecting by the MCP authorization spec, with a person in a real browser
 * (issue 37): the MCP TypeScript SDK client meets the 401, discovers, registers and builds the
 * authorization URL; headless Chromium opens it, the sandbox's Microsoft sign-in page (auto-approve
 * off) is answered like a person would, then our consent screen names the client, the account and
 * the access; Allow sends the browser to the client's loopback redirect, where the code is picked
 * up, and the SDK finishes and calls a tool. Screenshots land in test-results/.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app';
import { launchChromium, SHOTS } from '../support/chromium';
import { HostProvider } from '../support/mcp-host';

const ADELE = 'adele.vance@contoso.test';

let t: TestApp;
let browser: Browser;
let receiver: Server;
let redirectUrl: string;
const codes: string[] = [];

beforeAll(async () => {
  t = await startTestApp({ sandbox: { autoApprove: false } });
  // The MCP host's loopback listener (RFC 8252 §7.3), as Claude Code or VS Code run one.
  receiver = createServer((req, res) => {
    const code = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('code');
    if (code) codes.push(code);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>You can close this window</h1>');
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  redirectUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callback`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  await t?.stop();
});

test('from no credentials to a tool call: Microsoft sign-in and our consent screen in Chromium', async () => {
  const provider = new HostProvider(() => redirectUrl, 'Browser Assistant');
  const mcpUrl = new URL(`${t.api}/mcp`);
  const first = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
  await expect(new Client({ name: 'browser-host', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(
    UnauthorizedError,
  );
  const context = await browser.newContext({ viewport: { width: 800, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(provider.authorizationUrl!.toString());
    // Microsoft's (the sandbox's) sign-in: pick the account, accept the permissions.
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Permissions requested');
    await page.getByRole('radio', { name: new RegExp(ADELE.replace(/\./g, '\\.')) }).check();
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/api/auth/microsoft/callback'),
      page.getByRole('button', { name: 'Accept' }).click(),
    ]);
    // Our consent screen: the client, where it lives, the account, the access.
    expect(await page.locator('#client-name').textContent()).toBe('Browser Assistant');
    expect(await page.locator('#client-from').textContent()).toBe(new URL(redirectUrl).host);
    expect(await page.locator('#account').textContent()).toBe(ADELE);
    expect(await page.locator('#access').textContent()).toContain('read and write');
    await page.screenshot({ path: join(SHOTS, 'mcp-consent-page.png'), fullPage: true });
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(redirectUrl)),
      page.getByRole('button', { name: 'Allow' }).click(),
    ]);
  } finally {
    await context.close();
  }
  expect(codes).toHaveLength(1);
  await first.finishAuth(codes[0]!);
  const client = new Client({ name: 'browser-host', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
  try {
    const result = (await client.callTool({ name: 'profile.getMe', arguments: {} })) as {
      isError?: boolean;
      structuredContent?: Record<string, unknown>;
    };
    expect(result.isError).toBeFalsy();
    expect(JSON.stringify(result.structuredContent)).toContain(ADELE);
  } finally {
    await client.close();
  }
});
