import { configSchema, parseConfig } from '../../shared/config';
import { problemsFor, sampleSettings } from '../support/settings';

describe('configuration', () => {
  test('the sample settings parse and work against the sandbox', () => {
    const config = parseConfig(sampleSettings());
    expect(config.GRAPH_BASE_URL).toBe('https://127.0.0.1:7443/v1.0');
    expect(config.MICROSOFT_FEATURES).toEqual([
      'mail',
      'calendar',
      'files',
      'teams',
      'contacts',
      'todo',
      'people',
    ]);
    expect(config.TOKEN_ENCRYPTION_KEYS?.[0]?.key).toHaveLength(32);
  });

  const required = [
    'MICROSOFT_CLIENT_ID',
    'MICROSOFT_CLIENT_SECRET',
    'MICROSOFT_REDIRECT_URI',
    'PUBLIC_BASE_URL',
    'CALLER_TOKEN_ISSUER',
    'CALLER_TOKEN_AUDIENCE',
    'RETURN_URL_ALLOWLIST',
    'TOKEN_ENCRYPTION_KEYS',
    'AzureWebJobsStorage',
  ];
  test.each(required)('a missing %s is named, with how to fix it', (name) => {
    const env = sampleSettings();
    delete env[name];
    const problems = problemsFor(env);
    const mine = problems.filter((p) => p.startsWith(`${name} `));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toContain('is missing');
    expect(mine[0]).toContain('local.settings.json');
    expect(mine[0]).toContain('Key Vault');
  });

  test.each([
    ['MICROSOFT_TENANT_ID', 'not a tenant!', 'must be common, organizations, consumers'],
    ['GRAPH_BASE_URL', 'http://graph.example.test/v1.0', 'https://'],
    ['MICROSOFT_FEATURES', 'mail,fax', 'unknown feature(s) fax'],
    ['TOKEN_ENCRYPTION_KEYS', 'k1:c2hvcnQ=', '32 bytes'],
    ['CALLER_TOKEN_SECRET', 'too-short', 'at least 32 characters'],
    ['GRAPH_MAX_RETRY_WAIT_SECONDS', 'soon', 'Invalid input'],
    ['TEAMS_CHAT_SUBSCRIPTIONS_ENABLED', 'maybe', 'must be true or false'],
  ])('a bad %s is named with what is wrong', (name, value, expected) => {
    const problems = problemsFor({ ...sampleSettings(), [name]: value });
    const mine = problems.find((p) => p.startsWith(`${name} `));
    expect(mine).toBeDefined();
    expect(mine).toContain(expected);
  });

  test('every problem is reported at once, not one per restart', () => {
    const problems = problemsFor({});
    const names = problems.map((p) => p.split(' ')[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'MICROSOFT_CLIENT_ID',
        'MICROSOFT_REDIRECT_URI',
        'PUBLIC_BASE_URL',
        'AzureWebJobsStorage',
      ]),
    );
  });

  test('secrets may come from Key Vault instead of settings', () => {
    const env = sampleSettings();
    delete env.MICROSOFT_CLIENT_SECRET;
    delete env.TOKEN_ENCRYPTION_KEYS;
    delete env.CALLER_TOKEN_SECRET;
    env.KEY_VAULT_URL = 'https://contoso-kv.vault.azure.net';
    expect(() => parseConfig(env)).not.toThrow();
  });

  test('sandbox sample secrets are refused when the settings point at real Microsoft', () => {
    const env = {
      ...sampleSettings(),
      GRAPH_BASE_URL: 'https://graph.microsoft.com/v1.0',
      MICROSOFT_AUTHORITY_HOST: 'https://login.microsoftonline.com',
    };
    const problems = problemsFor(env);
    expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual([
      'CALLER_TOKEN_SECRET',
      'EVENTS_SIGNING_SECRETS',
      'MICROSOFT_CLIENT_SECRET',
      'TOKEN_ENCRYPTION_KEYS',
    ]);
    expect(problems[0]).toContain('sandbox sample value');
  });

  test('the sample lists every setting the schema knows', () => {
    const sample = Object.keys(sampleSettings());
    const schemaKeys = Object.keys(configSchema.shape).filter((k) => !k.startsWith('AzureWebJobsStorage__'));
    expect(schemaKeys.filter((k) => !sample.includes(k))).toEqual([]);
  });
});
