/**
 * `npm run sandbox` (issue 20): just the sandbox, with what a client needs printed; the printed
 * token works against the printed Graph URL, and Ctrl-C stops it cleanly.
 */
import { runNpm, type RunningScript } from '../support/npm-start';
import { freePort, portOpen } from '../support/ports';
import { waitFor } from '../support/sandbox';

let run: RunningScript | undefined;
afterEach(async () => {
  await run?.interrupt();
  run = undefined;
});

test('npm run sandbox prints the URLs, CA, users and a token that works', async () => {
  const port = await freePort();
  run = runNpm(['run', 'sandbox', '--', '--port', String(port)], {});
  const current = run;
  const output = await waitFor(() => {
    const text = current.output();
    return /Try: curl/.test(text) ? text : undefined;
  }, 60_000);
  const graphUrl = /Graph base URL\s+(\S+)/.exec(output)![1]!;
  expect(graphUrl).toBe(`https://127.0.0.1:${port}/v1.0`);
  expect(output).toMatch(/CA to trust\s+\S+sandbox-ca\.pem/);
  expect(output).toContain('adele.vance@contoso.test');
  const token = /Access token for [^\n]+\n(\S+)/.exec(output)![1]!;
  // The test process trusts the same CA (scripts/with-sandbox-ca.mjs).
  const me = await fetch(`${graphUrl}/me`, { headers: { authorization: `Bearer ${token}` } });
  expect(me.status).toBe(200);
  expect(((await me.json()) as { userPrincipalName: string }).userPrincipalName).toBe(
    'adele.vance@contoso.test',
  );
  await current.interrupt();
  run = undefined;
  expect(await portOpen(port)).toBe(false);
}, 90_000);
