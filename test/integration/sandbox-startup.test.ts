import type { Sandbox } from '../../sandbox';
import { controlCall, injectFault, requestLog, startTestSandbox } from '../support/sandbox';

describe('sandbox process basics', () => {
  let sandbox: Sandbox;
  // How fast it starts is a benchmark (bench core: "sandbox start"), not a test: CI machines are busy.
  beforeAll(async () => {
    sandbox = await startTestSandbox();
  });
  afterAll(async () => await sandbox.stop());

  test('starts over HTTPS trusted through NODE_EXTRA_CA_CERTS', async () => {
    const res = await fetch(`${sandbox.url}/_sandbox/health`);
    expect(res.status).toBe(200);
  });

  test('lists the seeded users and their UPNs', async () => {
    const { value } = await controlCall<{ value: Array<{ userPrincipalName: string }> }>(
      sandbox,
      'GET',
      '/users',
    );
    expect(value.map((u) => u.userPrincipalName)).toEqual(
      expect.arrayContaining(['adele.vance@contoso.test', 'megan.bowen@contoso.test', 'lee.gu@contoso.test']),
    );
  });

  test('injected faults hit the next N matching requests only, and the log records them without tokens', async () => {
    await injectFault(sandbox, {
      method: 'GET',
      path: '^/v1.0/faulty',
      status: 503,
      count: 2,
      headers: { 'retry-after': '1.5' },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${sandbox.graphBaseUrl}/faulty`, {
        headers: { authorization: 'Bearer secret-token-value' },
      });
      statuses.push(res.status);
      if (i === 0) {
        expect(res.headers.get('retry-after')).toBe('1.5');
        const body = (await res.json()) as { error: { code: string; innerError: Record<string, string> } };
        expect(body.error.code).toBe('serviceNotAvailable');
        expect(body.error.innerError['request-id']).toBe(res.headers.get('request-id'));
      }
    }
    expect(statuses.slice(0, 2)).toEqual([503, 503]);
    expect(statuses[2]).not.toBe(503);
    const log = await requestLog(sandbox);
    expect(log.filter((e) => e.path === '/v1.0/faulty')).toHaveLength(3);
    expect(JSON.stringify(log)).not.toContain('secret-token-value');
  });
});
