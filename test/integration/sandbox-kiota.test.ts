/**
 * Microsoft's own Kiota-based SDK (@microsoft/msgraph-sdk, pinned) pointed at the sandbox,
 * unmodified (issue 20): profile, message paging with its PageIterator, sendMail (which Kiota
 * serialises with the API description's parameter names), events, the fluent delta builder and
 * $batch through BatchRequestContent, and drive children by `root`.
 * The SDK is ESM only, so it runs in a child process (test/support/clients/kiota.mjs).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Sandbox } from '../../sandbox';
import { mintToken, startTestSandbox } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startTestSandbox();
});
afterAll(async () => await sandbox.stop());

function runKiota(env: Record<string, string>): Promise<Json> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(__dirname, '..', 'support', 'clients', 'kiota.mjs')],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Json);
      },
    );
  });
}

test('the Kiota SDK reads, pages, sends and follows delta against the sandbox', async () => {
  const token = await mintToken(sandbox, ADELE, [
    'Mail.ReadWrite',
    'Mail.Send',
    'Calendars.Read',
    'Files.Read',
    'User.Read',
  ]);
  const total = (await (
    await fetch(`${sandbox.graphBaseUrl}/me/messages?$count=true&$top=1`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as Json;
  const out = await runKiota({ GRAPH_BASE_URL: sandbox.graphBaseUrl, GRAPH_TOKEN: token, TO: MEGAN });
  expect(out.me).toBe(ADELE);
  expect(out.paging).toEqual({ count: expect.any(Number), firstPageSize: 2 });
  expect(out.paging.count).toBeGreaterThan(2);
  // The iterator followed every nextLink: it saw every message.
  expect(out.paging.count).toBe(total['@odata.count']);
  expect(out.sendMail).toBe('sent');
  expect(out.events).toEqual(expect.any(Number));
  expect(out.delta).toEqual({ items: expect.any(Number), hasLink: true });
  expect(out.batch).toEqual([200, 200]);
  // Drive children by `root` as an item id, the form the Kiota SDK uses for the root folder.
  const root = (await (
    await fetch(`${sandbox.graphBaseUrl}/me/drive/root/children`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as Json;
  const names = (root.value as Json[]).map((i) => i.name as string).sort();
  expect(names.length).toBeGreaterThan(0);
  expect(out.driveChildren).toEqual({
    driveId: expect.any(String),
    drives: [out.driveChildren.driveId],
    children: names,
  });
}, 90_000);
