/**
 * The sandbox answers under every Microsoft cloud's host names (a hosts entry or a proxy sends
 * them to it), and the app's cloud table (shared/cloud.ts) names exactly those hosts: for each
 * cloud, TLS verifies against the sandbox's certificate for the authority, Graph and Key Vault
 * names the app would use, and the sandbox serves them.
 */
import { request as httpsRequest } from 'node:https';
import type { Sandbox } from '../../sandbox';
import { CLOUD_NAMES, CLOUDS } from '../../shared/cloud';
import { mintToken, startTestSandbox } from '../support/sandbox';

let sandbox: Sandbox;
let token: string;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  token = await mintToken(sandbox, 'adele.vance@contoso.test', ['User.Read']);
});
afterAll(async () => await sandbox.stop());

/** GET `path` from the sandbox as if it were `host` (SNI and Host header), TLS verified. */
async function getAs(host: string, path: string, headers: Record<string, string> = {}) {
  const port = Number(new URL(sandbox.url).port);
  return await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, servername: host, path, headers: { host, ...headers } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test.each(CLOUD_NAMES)(
  '%s: the authority, Graph and Key Vault host names reach the sandbox',
  async (name) => {
    const cloud = CLOUDS[name];
    const authority = new URL(cloud.authorityHost).hostname;
    const discovery = await getAs(authority, '/organizations/v2.0/.well-known/openid-configuration');
    expect(discovery.status).toBe(200);
    expect(JSON.parse(discovery.body)).toHaveProperty('token_endpoint');

    const graph = new URL(cloud.graphBaseUrl);
    const me = await getAs(graph.hostname, `${graph.pathname}/me`, { authorization: `Bearer ${token}` });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ userPrincipalName: 'adele.vance@contoso.test' });

    // A vault of that cloud: TLS verifies for its name (the answer itself needs a vault token).
    const vault = await getAs(`contoso-kv${cloud.keyVaultSuffix}`, '/secrets?api-version=7.5');
    expect(vault.status).toBe(401);
  },
);
