/**
 * Microsoft's clouds (shared/cloud.ts, https://learn.microsoft.com/graph/deployments): one setting
 * picks the sign-in authority and Graph endpoint; what a cloud cannot do is refused by the
 * configuration itself, naming the setting and why.
 */
import { CLOUD_NAMES, CLOUDS, unavailableIn } from '../../shared/cloud';
import { parseConfig } from '../../shared/config';
import { problemsFor, sampleSettings } from '../support/settings';

/** The sample settings with the sandbox's hosts taken away, as in a real deployment. */
function deployed(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...sampleSettings(),
    MICROSOFT_AUTHORITY_HOST: undefined,
    GRAPH_BASE_URL: undefined,
    // Real secrets: the sandbox samples are refused against real Microsoft.
    MICROSOFT_CLIENT_SECRET: 'a-real-looking-client-secret',
    CALLER_TOKEN_SECRET: 'x'.repeat(40),
    TOKEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
    EVENTS_SIGNING_SECRETS: undefined,
    ...extra,
  };
  return env;
}

test('each cloud has its own authority and Graph endpoint (deployments.md)', () => {
  const hosts = Object.fromEntries(
    CLOUD_NAMES.map((name) => {
      const config = parseConfig(deployed({ MICROSOFT_CLOUD: name, MICROSOFT_FEATURES: 'mail,calendar' }));
      return [name, [config.MICROSOFT_AUTHORITY_HOST, config.GRAPH_BASE_URL]];
    }),
  );
  expect(hosts).toEqual({
    global: ['https://login.microsoftonline.com', 'https://graph.microsoft.com/v1.0'],
    usgov: ['https://login.microsoftonline.us', 'https://graph.microsoft.us/v1.0'],
    'usgov-dod': ['https://login.microsoftonline.us', 'https://dod-graph.microsoft.us/v1.0'],
    china: ['https://login.chinacloudapi.cn', 'https://microsoftgraph.chinacloudapi.cn/v1.0'],
  });
  // Explicit hosts (the sandbox) still win.
  expect(parseConfig({ ...sampleSettings(), MICROSOFT_CLOUD: 'china' }).GRAPH_BASE_URL).toBe(
    'https://127.0.0.1:7443/v1.0',
  );
});

test('what a cloud cannot do is refused by the configuration, naming why', () => {
  expect(
    problemsFor(deployed({ MICROSOFT_CLOUD: 'china', MICROSOFT_FEATURES: 'mail,meetings,rooms' })),
  ).toEqual([
    expect.stringMatching(
      /^MICROSOFT_FEATURES has meetings: "meetings" is not offered in Microsoft 365 operated by 21Vianet/,
    ),
    expect.stringMatching(/^MICROSOFT_FEATURES has rooms: .*place-list/),
  ]);
  expect(problemsFor(deployed({ MICROSOFT_CLOUD: 'usgov', MICROSOFT_TENANT_ID: 'consumers' }))).toEqual([
    expect.stringMatching(/^MICROSOFT_TENANT_ID cannot be consumers in Microsoft Cloud for US Government/),
  ]);
  expect(
    problemsFor(deployed({ MICROSOFT_CLOUD: 'usgov', KEY_VAULT_URL: 'https://kv1.vault.azure.net' })).filter(
      (p) => p.startsWith('KEY_VAULT_URL'),
    ),
  ).toEqual([expect.stringContaining('*.vault.usgovcloudapi.net')]);
  expect(problemsFor(deployed({ MICROSOFT_CLOUD: 'moon' }))[0]).toMatch(/^MICROSOFT_CLOUD /);
});

test('the global service offers every feature; national clouds name the page that says otherwise', () => {
  expect(Object.keys(CLOUDS.global.unavailable)).toEqual([]);
  expect(unavailableIn('global', 'rooms')).toBeUndefined();
  expect(unavailableIn('usgov', 'rooms')).toContain('https://learn.microsoft.com/graph/api/place-list');
  expect(unavailableIn('usgov', 'meetings')).toBeUndefined();
  expect(unavailableIn('china', 'meetings-content')).toContain('calltranscript-get');
});
