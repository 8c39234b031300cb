/**
 * Offline checks of the deployment definitions (infra/): no Bicep compiler and no Terraform
 * providers can be installed here (../shared/reference/toolchain.md, "Infra checks available
 * here"), so this file parses the sources itself and compares them with shared/config.ts:
 * - every HCL file parses (@cdktf/hcl2json); `terraform fmt -check` runs when a binary exists;
 * - Bicep and Terraform declare every setting configSchema requires, nothing it doesn't know,
 *   and no secret in clear;
 * - both grant the app identity the five roles it needs.
 * Full `bicep build` / `terraform validate` run in scripts/infra-validate.mjs where the tools exist.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { parse as parseHcl } from '@cdktf/hcl2json';
import { z } from 'zod';

import { configSchema, parseConfig, SECRET_SETTINGS } from '../../shared/config';
import { USER_TABLES } from '../../shared/shards';

const ROOT = join(__dirname, '..', '..');
const INFRA = join(ROOT, 'infra');
const TERRAFORM = join(INFRA, 'terraform');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// ---------------------------------------------------------------------------------------------
// Pure helpers (unit-tested below)

type Shape = Record<string, z.ZodType>;

/** Settings the schema cannot do without: no default, not optional (they fail on `undefined`). */
export function requiredSettings(shape: Shape): string[] {
  return Object.entries(shape)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([name]) => name);
}

/** Required settings a deployment definition does not declare, in the schema's order. */
export function missingSettings(declared: Iterable<string>, required: readonly string[]): string[] {
  const have = new Set(declared);
  return required.filter((name) => !have.has(name));
}

/**
 * Host and SDK settings an infra definition may declare although shared/config.ts doesn't read
 * them. Anything else not in the schema is a typo or a stale setting.
 */
export const PLATFORM_SETTINGS = [
  'AzureWebJobsStorage__credential', // Functions host: identity-based storage connection
  'AzureWebJobsStorage__blobServiceUri', // Functions host: blob endpoint (leases)
  'AZURE_CLIENT_ID', // @azure/identity: which user-assigned identity to use
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', // Entra ingestion with the UAMI
] as const;

/** Settings Flex Consumption rejects or ignores (runtime comes from functionAppConfig). */
export const NOT_ON_FLEX = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTSHARE',
  'AzureWebJobsStorage', // a connection string would carry an account key
];

const KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\((SecretUri|VaultName)=/;

/** SECRET_SETTINGS entries declared with a value that is not a Key Vault reference. */
export function plaintextSecrets(settings: Record<string, string>, secrets: readonly string[]): string[] {
  return secrets.filter((name) => name in settings && !KEY_VAULT_REFERENCE.test(settings[name] ?? ''));
}

/**
 * A value each declared setting's own schema accepts, so the whole schema (including its
 * cross-setting rules: secrets need KEY_VAULT_URL, storage needs an account) can be checked
 * against what the infra declares. Undefined when no candidate fits.
 */
export function placeholderFor(schema: z.ZodType): string | undefined {
  const candidates = ['https://example.test/', 'common', 'mail', 'global', 'true', '1', 'placeholder'];
  return candidates.find((c) => schema.safeParse(c).success);
}

/**
 * Minimal Bicep reader: finds the `{ ... }` or `[ ... ]` that starts at or after `from`, skipping
 * strings ('...', with \' escapes) and comments, and returns its inner text and end index.
 */
export function bicepBlock(text: string, from: number): { body: string; end: number } | undefined {
  let depth = 0;
  let start = -1;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") {
      for (i++; i < text.length && text[i] !== "'"; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (ch === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2);
      if (i < 0) return undefined;
      i++;
      continue;
    }
    if (ch === '{' || ch === '[') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0 && start >= 0) return { body: text.slice(start + 1, i), end: i };
    }
  }
  return undefined;
}

/** Top-level `key: value` entries of a Bicep object body (values as source text). */
export function bicepObjectEntries(body: string): Record<string, string> {
  const entries: Record<string, string> = {};
  let depth = 0;
  for (const line of body.split('\n')) {
    const code = line.replace(/\/\/.*$/, '');
    if (depth === 0) {
      const m = /^\s*'?([A-Za-z_][\w-]*)'?\s*:\s*(.*?)\s*$/.exec(code);
      if (m?.[1] !== undefined) entries[m[1]] = m[2] ?? '';
    }
    const withoutStrings = code.replace(/'(?:[^'\\]|\\.)*'/g, "''");
    depth += (withoutStrings.match(/[{[(]/g) ?? []).length - (withoutStrings.match(/[}\])]/g) ?? []).length;
  }
  return entries;
}

/** The entries of `var <name> = { ... }` in a Bicep file. */
export function bicepVarObject(text: string, name: string): Record<string, string> | undefined {
  const at = new RegExp(`^var\\s+${name}\\s*=\\s*\\{`, 'm').exec(text);
  if (!at) return undefined;
  const block = bicepBlock(text, at.index);
  return block && bicepObjectEntries(block.body);
}

/**
 * Role definition GUIDs assigned to `principal` in a Bicep file: role-assignment resources whose
 * body says `principalId: <principal>`, following `var` names (and arrays of them, for loops)
 * to their GUID literals.
 */
export function bicepRoleGuids(text: string, principal: string): string[] {
  const vars = new Map<string, string>();
  for (const m of text.matchAll(/^var\s+(\w+)\s*=\s*(.+)$/gm)) vars.set(m[1]!, m[2]!);
  const guids = new Set<string>();
  const seen = new Set<string>();
  const follow = (source: string) => {
    for (const g of source.match(/[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}/gi) ?? []) guids.add(g);
    for (const ident of source.replace(/'(?:[^'\\]|\\.)*'/g, '').match(/\b[A-Za-z_]\w*\b/g) ?? []) {
      const value = vars.get(ident);
      if (value !== undefined && !seen.has(ident)) {
        seen.add(ident);
        follow(value);
      }
    }
  };
  const header = /^resource\s+\w+\s+'Microsoft\.Authorization\/roleAssignments@[\w-]+'\s*=/gm;
  for (const m of text.matchAll(header)) {
    const block = bicepBlock(text, m.index + m[0].length);
    if (!block) continue;
    const source = text.slice(m.index + m[0].length, block.end + 1);
    if (!new RegExp(`principalId:\\s*${principal}\\b`).test(source)) continue;
    follow(source.replace(/^\s*principalId:.*$/m, ''));
  }
  return [...guids];
}

// ---------------------------------------------------------------------------------------------
// Sources

const shape = configSchema.shape as unknown as Shape;
const REQUIRED = requiredSettings(shape);

const ROLES = {
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
};

const apiBicep = read('infra/app/api.bicep');
const bicepSettings = bicepVarObject(apiBicep, 'appSettings') ?? {};

function hclFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name.startsWith('.') ? [] : hclFiles(path);
    return /\.(tf|tftest\.hcl)$|\.tfvars\.example$/.test(e.name) ? [path] : [];
  });
}

type Json = Record<string, unknown>;
const parsedHcl = new Map<string, Json>();
async function hcl(file: string): Promise<Json> {
  let parsed = parsedHcl.get(file);
  if (!parsed) {
    parsed = (await parseHcl(file, readFileSync(file, 'utf8'))) as Json;
    parsedHcl.set(file, parsed);
  }
  return parsed;
}

async function terraformFunctionApp(): Promise<Json> {
  const doc = await hcl(join(TERRAFORM, 'main.function.tf'));
  const resources = doc.resource as Record<string, Record<string, Json[]>>;
  const app = resources.azurerm_function_app_flex_consumption?.api?.[0];
  if (!app) throw new Error('main.function.tf has no azurerm_function_app_flex_consumption.api');
  return app;
}

/** The app's own settings (a local: the Function App merges the shards' settings into them). */
async function terraformLocals(file: string): Promise<Json> {
  return Object.assign({}, ...((await hcl(join(TERRAFORM, file))).locals as Json[])) as Json;
}
async function terraformSettings(): Promise<Record<string, string>> {
  return (await terraformLocals('main.function.tf')).function_app_settings as Record<string, string>;
}

// ---------------------------------------------------------------------------------------------

describe('settings comparison helpers', () => {
  test('requiredSettings finds settings without a default that are not optional', () => {
    const schema = z.object({
      NEEDED: z.string().min(1),
      DEFAULTED: z.string().default('x'),
      OPTIONAL: z.string().optional(),
      URL: z.string().url(),
    });
    expect(requiredSettings(schema.shape)).toEqual(['NEEDED', 'URL']);
  });

  test('missingSettings names each required setting that is not declared', () => {
    expect(missingSettings(['A', 'B'], ['A', 'B'])).toEqual([]);
    expect(missingSettings(['A'], ['A', 'B', 'C'])).toEqual(['B', 'C']);
    expect(missingSettings(new Set(['A', 'EXTRA']), ['A'])).toEqual([]);
  });

  test('a setting added to config.ts but not to the infra is reported by name', () => {
    // What happens when someone adds `NEW_WEBHOOK_SECRET_NAME: z.string()` to configSchema:
    const extended = z.object({ ...shape, NEW_WEBHOOK_SECRET_NAME: z.string().min(1) });
    const required = requiredSettings(extended.shape);
    expect(required).toContain('NEW_WEBHOOK_SECRET_NAME');
    expect(missingSettings(Object.keys(bicepSettings), required)).toEqual(['NEW_WEBHOOK_SECRET_NAME']);
  });

  test('plaintextSecrets accepts absence and Key Vault references only', () => {
    const secrets = ['S1', 'S2', 'S3'];
    expect(
      plaintextSecrets(
        { S1: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/s1/)' },
        secrets,
      ),
    ).toEqual([]);
    expect(plaintextSecrets({ S2: 'hunter2', OTHER: 'x' }, secrets)).toEqual(['S2']);
  });

  test('placeholderFor finds a value the setting accepts', () => {
    expect(placeholderFor(z.string().url())).toBe('https://example.test/');
    expect(placeholderFor(z.enum(['true', 'false']))).toBe('true');
    expect(placeholderFor(z.string().regex(/^\d+$/))).toBe('1');
  });
});

describe('Bicep reader', () => {
  const sample = [
    "var guidA = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' // a comment with { brace",
    "var guidB = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'",
    "var guidC = 'cccccccc-cccc-cccc-cccc-cccccccccccc'",
    'var both = [guidA, guidB]',
    'var settings = {',
    "  PLAIN: 'text with } and { inside'",
    "  'QUOTED_KEY': '${prefix}/x'",
    '  NESTED: {',
    "    INNER: 'not top level'",
    '  }',
    '  // COMMENTED: 1',
    '  LAST: resource.properties.value',
    '}',
    "resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for r in both: {",
    '  name: guid(r)',
    '  properties: { roleDefinitionId: r, principalId: appPrincipalId }',
    '}]',
    "resource other 'Microsoft.Authorization/roleAssignments@2022-04-01' = {",
    '  properties: {',
    '    roleDefinitionId: guidC',
    '    principalId: operatorPrincipalId',
    '  }',
    '}',
  ].join('\n');

  test('reads the top-level keys of a var object, skipping strings, comments and nesting', () => {
    expect(bicepVarObject(sample, 'settings')).toEqual({
      PLAIN: "'text with } and { inside'",
      QUOTED_KEY: "'${prefix}/x'",
      NESTED: '{',
      LAST: 'resource.properties.value',
    });
    expect(bicepVarObject(sample, 'absent')).toBeUndefined();
  });

  test('follows role GUIDs through vars and loops, for one principal only', () => {
    expect(bicepRoleGuids(sample, 'appPrincipalId').sort()).toEqual([
      'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
      'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb',
    ]);
    expect(bicepRoleGuids(sample, 'operatorPrincipalId')).toEqual(['cccccccc-cccc-cccc-cccc-cccccccccccc']);
  });
});

describe('Terraform sources', () => {
  const files = hclFiles(TERRAFORM);

  test('the expected files exist, one per concern', () => {
    const names = files.map((f) => relative(TERRAFORM, f)).sort();
    expect(names).toEqual(
      expect.arrayContaining([
        'main.function.tf',
        'main.identity.tf',
        'main.keyvault.tf',
        'main.monitoring.tf',
        'main.storage.tf',
        'outputs.tf',
        'terraform.tf',
        'terraform.tfvars.example',
        'variables.tf',
      ]),
    );
    expect(names.some((n) => /^tests\/.+\.tftest\.hcl$/.test(n))).toBe(true);
  });

  test.each(hclFiles(TERRAFORM).map((f) => [relative(ROOT, f), f]))(
    '%s parses as HCL',
    async (_name, file) => {
      await expect(hcl(file)).resolves.toEqual(expect.any(Object));
    },
  );

  test('is formatted (terraform fmt -check, where a terraform binary exists)', () => {
    const probe = spawnSync('terraform', ['version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      console.log(
        'terraform is not installed here: skipped `terraform fmt -check` (HCL parsing above still ran)',
      );
      return;
    }
    const fmt = spawnSync('terraform', ['fmt', '-check', '-recursive', '-diff', TERRAFORM], {
      encoding: 'utf8',
    });
    expect({ status: fmt.status, diff: fmt.stdout }).toEqual({ status: 0, diff: '' });
  });

  test('variables are non-nullable, described, and secrets are sensitive', async () => {
    const doc = await hcl(join(TERRAFORM, 'variables.tf'));
    const variables = doc.variable as Record<string, Json[]>;
    for (const [name, [v]] of Object.entries(variables)) {
      expect({ name, nullable: v?.nullable, described: typeof v?.description }).toEqual({
        name,
        nullable: false,
        described: 'string',
      });
    }
    for (const secret of ['microsoft_client_secret', 'token_encryption_keys', 'caller_token_secret']) {
      expect({ secret, sensitive: variables[secret]?.[0]?.sensitive }).toEqual({ secret, sensitive: true });
      expect(variables[secret]?.[0]?.validation).toBeDefined();
    }
  });

  test('providers are pinned with ~> (azurerm 4.x)', async () => {
    const doc = await hcl(join(TERRAFORM, 'terraform.tf'));
    const [tf] = doc.terraform as Json[];
    const [providers] = tf?.required_providers as Array<Record<string, { version: string }>>;
    expect(providers?.azurerm?.version).toMatch(/^~> 4\./);
    for (const p of Object.values(providers ?? {})) expect(p.version).toMatch(/^~> /);
  });
});

describe.each([
  ['infra/app/api.bicep', async () => bicepSettings],
  ['infra/terraform/main.function.tf', terraformSettings],
])('app settings in %s', (_file, load) => {
  test('declare every setting shared/config.ts requires', async () => {
    expect(REQUIRED.length).toBeGreaterThan(0);
    expect(missingSettings(Object.keys(await load()), REQUIRED)).toEqual([]);
  });

  test('declare only settings config.ts or the platform knows (no typos, no stale names)', async () => {
    const known = new Set<string>([...Object.keys(shape), ...PLATFORM_SETTINGS]);
    expect(Object.keys(await load()).filter((name) => !known.has(name))).toEqual([]);
  });

  test('hold no secret in clear', async () => {
    expect(plaintextSecrets(await load(), SECRET_SETTINGS)).toEqual([]);
  });

  test('are a configuration the app accepts (secrets via KEY_VAULT_URL, identity-based storage)', async () => {
    const settings = await load();
    const env: Record<string, string> = {};
    const noPlaceholder: string[] = [];
    // What the templates compute for a default deployment (one storage account: no shard list).
    const computed: Record<string, string> = { STORAGE_SHARDS: '1' };
    for (const name of Object.keys(settings)) {
      const schema = shape[name];
      if (!schema) continue;
      const value = name in computed ? computed[name] : placeholderFor(schema);
      if (value === undefined) noPlaceholder.push(name);
      else env[name] = value;
    }
    expect(noPlaceholder).toEqual([]);
    expect(() => parseConfig(env)).not.toThrow();
    expect(settings.KEY_VAULT_URL).toBeDefined();
    expect(settings.AzureWebJobsStorage__credential).toMatch(/managedidentity/);
  });

  test('use nothing Flex Consumption rejects', async () => {
    const settings = await load();
    expect(NOT_ON_FLEX.filter((name) => name in settings)).toEqual([]);
  });
});

describe('Bicep definitions', () => {
  const rbac = read('infra/app/rbac.bicep');

  test('the app settings var is what the Function App gets', () => {
    expect(Object.keys(bicepSettings).length).toBeGreaterThan(0);
    expect(apiBicep).toMatch(
      /'Microsoft\.Web\/sites\/config@[\w-]+'\s*=\s*\{[^}]*name:\s*'appsettings'\s+properties:\s*union\(appSettings, shardSettings\)\s/,
    );
  });

  test('Bicep and Terraform declare the same app settings', async () => {
    const tf = Object.keys(await terraformSettings()).sort();
    // Terraform sets the connection string through site_config (the provider's own key).
    const bicep = Object.keys(bicepSettings)
      .filter((n) => n !== 'APPLICATIONINSIGHTS_CONNECTION_STRING')
      .sort();
    expect(tf).toEqual(bicep);
    expect((await terraformFunctionApp()).site_config).toEqual([
      expect.objectContaining({ application_insights_connection_string: expect.any(String) }),
    ]);
  });

  test.each(Object.entries(ROLES))('grants the app identity %s', (_role, guid) => {
    expect(bicepRoleGuids(rbac, 'appPrincipalId')).toContain(guid);
  });

  test('role assignment names are deterministic guid(scope, principal, role)', () => {
    const header = /^resource\s+\w+\s+'Microsoft\.Authorization\/roleAssignments@[\w-]+'\s*=/gm;
    const names = [...rbac.matchAll(header)].map((m) => {
      const block = bicepBlock(rbac, m.index + m[0].length);
      return /^\s*name:\s*(.+)$/m.exec(block?.body ?? '')?.[1];
    });
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const n of names) expect(n).toMatch(/^guid\(\w+\.id, \w+, \w+\)$/);
  });

  test('Flex Consumption, Linux, Node 22, deployment from blob with the user-assigned identity', () => {
    expect(apiBicep).toMatch(/name:\s*'FC1'\s+tier:\s*'FlexConsumption'/);
    expect(apiBicep).toMatch(/kind:\s*'functionapp,linux'/);
    expect(apiBicep).toMatch(/runtime:\s*\{\s*name:\s*'node'\s+version:\s*'22'\s*\}/);
    expect(apiBicep).toMatch(/type:\s*'UserAssignedIdentity'\s+userAssignedIdentityResourceId:\s*identityId/);
    expect(apiBicep).toMatch(/keyVaultReferenceIdentity:\s*identityId/);
  });

  test('security defaults: no shared keys, RBAC Key Vault with purge protection, no local AI auth', () => {
    expect(read('infra/core/storage/storage-account.bicep')).toMatch(/allowSharedKeyAccess:\s*false/);
    const kv = read('infra/core/security/keyvault.bicep');
    expect(kv).toMatch(/enableRbacAuthorization:\s*true/);
    expect(kv).toMatch(/enableSoftDelete:\s*true/);
    expect(kv).toMatch(/enablePurgeProtection:\s*true/);
    expect(read('infra/core/monitor/monitoring.bicep')).toMatch(/DisableLocalAuth:\s*true/);
  });

  test('main.bicep follows azd conventions and every param without a default comes from the azd env', () => {
    const main = read('infra/main.bicep');
    expect(main).toMatch(/^targetScope = 'subscription'$/m);
    const params = [...main.matchAll(/^param\s+(\w+)\s+\w+(\s*=.*)?$/gm)];
    expect(params.map((m) => m[1])).toEqual(
      expect.arrayContaining(['environmentName', 'location', 'principalId']),
    );
    const file = JSON.parse(read('infra/main.parameters.json')) as {
      parameters: Record<string, { value: unknown }>;
    };
    const required = params.filter((m) => m[2] === undefined).map((m) => m[1]!);
    expect(missingSettings(Object.keys(file.parameters), required)).toEqual([]);
    for (const [name, { value }] of Object.entries(file.parameters)) {
      expect({ name, value }).toEqual({ name, value: expect.stringMatching(/^\$\{[A-Z_]+\}$/) });
      expect(params.map((m) => m[1])).toContain(name);
    }
    for (const output of [...main.matchAll(/^output\s+(\w+)/gm)].map((m) => m[1])) {
      expect(output).toMatch(/^[A-Z][A-Z0-9_]*$/);
    }
    expect(main).toMatch(/^output MICROSOFT_REDIRECT_URI /m);
    expect(main).toMatch(/^output GRAPH_WEBHOOK_URL /m);
    expect(main).toMatch(/^output GRAPH_LIFECYCLE_URL /m);
  });
});

describe('Terraform definitions', () => {
  test.each(Object.entries(ROLES))('grants the app identity %s', async (_role, guid) => {
    const doc = await hcl(join(TERRAFORM, 'main.identity.tf'));
    const locals = Object.assign({}, ...(doc.locals as Json[])) as {
      role_definition_ids: Record<string, string>;
      app_role_assignments: Record<string, { role: string }>;
    };
    const assigned = Object.values(locals.app_role_assignments).map(({ role }) => {
      const key = /^\$\{local\.role_definition_ids\.(\w+)\}$/.exec(role)?.[1] ?? '';
      return locals.role_definition_ids[key];
    });
    expect(assigned).toContain(guid);
    const resources = doc.resource as Record<string, Record<string, Json[]>>;
    const app = resources.azurerm_role_assignment?.app?.[0];
    expect(app).toEqual(
      expect.objectContaining({
        for_each: '${local.app_role_assignments}',
        principal_id: '${azurerm_user_assigned_identity.app.principal_id}',
        name: expect.stringMatching(/^\$\{uuidv5\(/),
      }),
    );
  });

  test('Flex Consumption, Node 22, deployment from blob with the user-assigned identity', async () => {
    const app = await terraformFunctionApp();
    expect(app).toEqual(
      expect.objectContaining({
        runtime_name: 'node',
        runtime_version: '22',
        storage_container_type: 'blobContainer',
        storage_authentication_type: 'UserAssignedIdentity',
        https_only: true,
      }),
    );
  });

  test('security defaults: no shared keys, RBAC Key Vault with purge protection, no local AI auth', async () => {
    const res = async (file: string, type: string) =>
      ((await hcl(join(TERRAFORM, file))).resource as Record<string, Record<string, Json[]>>)[type]
        ?.main?.[0];
    expect(await res('main.storage.tf', 'azurerm_storage_account')).toEqual(
      expect.objectContaining({ shared_access_key_enabled: false }),
    );
    expect(await res('main.keyvault.tf', 'azurerm_key_vault')).toEqual(
      expect.objectContaining({ enable_rbac_authorization: true, purge_protection_enabled: true }),
    );
    expect(await res('main.monitoring.tf', 'azurerm_application_insights')).toEqual(
      expect.objectContaining({ local_authentication_disabled: true }),
    );
  });

  test('writes secrets under the names the app reads (lower case, _ as -)', async () => {
    const doc = await hcl(join(TERRAFORM, 'main.keyvault.tf'));
    const locals = Object.assign({}, ...(doc.locals as Json[])) as {
      key_vault_secret_names: Record<string, string>;
    };
    expect(locals.key_vault_secret_names).toEqual(
      Object.fromEntries(SECRET_SETTINGS.map((s) => [s, s.toLowerCase().replace(/_/g, '-')])),
    );
  });

  test('outputs the URLs the app registration and Graph need', async () => {
    const doc = await hcl(join(TERRAFORM, 'outputs.tf'));
    expect(Object.keys(doc.output as Json)).toEqual(
      expect.arrayContaining([
        'microsoft_redirect_uri',
        'graph_webhook_url',
        'graph_lifecycle_url',
        'key_vault_url',
      ]),
    );
  });
});

describe('operations: workbook and alert rules (docs/operations.md)', () => {
  const squash = (q: string) => q.replace(/\s+/g, ' ').trim();
  const bicep = read('infra/core/monitor/operations.bicep');

  /** name → query of the alerts var in operations.bicep. */
  function bicepAlerts(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const m of bicep.matchAll(
      /name: '([a-z-]+)'\s+severity: \d\s+description: '[^']*'\s+query: '''([\s\S]*?)'''/g,
    ))
      out[m[1]!] = squash(m[2]!);
    return out;
  }

  test('Bicep and Terraform raise the same four alerts on the same queries', async () => {
    const doc = await hcl(join(TERRAFORM, 'main.monitoring.tf'));
    const locals = Object.assign({}, ...(doc.locals as Json[])) as {
      operations_alerts: Record<string, { query: string }>;
    };
    const terraform = Object.fromEntries(
      Object.entries(locals.operations_alerts).map(([name, a]) => [name, squash(a.query)]),
    );
    expect(Object.keys(bicepAlerts()).sort()).toEqual([
      'auth-failures',
      'dead-letters',
      'graph-throttling',
      'sync-behind',
    ]);
    expect(terraform).toEqual(bicepAlerts());
  });

  test('the alerts watch what the app writes: its span names, attributes and log events', () => {
    const source = [
      'shared/telemetry.ts',
      'shared/graph/middleware.ts',
      'shared/events/deliver.ts',
      'shared/webhooks/silence.ts',
      'shared/auth/token-vault.ts',
    ]
      .map(read)
      .join('\n');
    for (const needle of [
      'm365.throttled',
      'events_dead_lettered',
      'feed_degraded',
      'app_credentials_invalid',
      'connection_reauth_required',
      'm365.sync.lag_ms',
      'm365.queue.oldest_age_s',
      'messaging.destination.name',
    ])
      expect({ needle, found: source.includes(needle) }).toEqual({ needle, found: true });
    expect(read('shared/graph/middleware.ts')).toContain('`graph ${method}`');
  });

  test('the workbook is one file both templates deploy, with a query per panel', () => {
    const workbook = JSON.parse(read('infra/core/monitor/operations-workbook.json')) as {
      version: string;
      items: Array<{ type: number; content: { query?: string } }>;
    };
    expect(workbook.version).toBe('Notebook/1.0');
    const queries = workbook.items.filter((i) => i.type === 3).map((i) => i.content.query ?? '');
    expect(queries.length).toBeGreaterThanOrEqual(6);
    for (const q of queries) expect(q.trim().length).toBeGreaterThan(0);
    expect(bicep).toContain("loadTextContent('operations-workbook.json')");
    expect(read('infra/terraform/main.monitoring.tf')).toContain('core/monitor/operations-workbook.json');
    expect(read('infra/main.bicep')).toContain("module operations 'core/monitor/operations.bicep'");
  });
});

describe('storage shards (docs/scale.md; shared/shards.ts)', () => {
  /** Every .ts file under shared/, concatenated: where the tables a shard holds are routed. */
  const sources = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [read(join(dir, e.name))] : [],
    );
  const shared = sources('shared').join('\n');
  /** The tables the code keeps per user in the user's shard (userTable(X_TABLE, …)). */
  const routed = [...shared.matchAll(/userTable\((\w+_TABLE),/g)]
    .map((m) => new RegExp(`export const ${m[1]} = '([a-z]+)'`).exec(shared)?.[1])
    .filter((n): n is string => n !== undefined);

  test('both templates create storageShards-1 accounts with the tables the code routes there', async () => {
    // The list the reshard walks (shared/shards.ts) is what the code routes per user.
    expect(new Set(USER_TABLES)).toEqual(new Set(routed));
    expect(new Set(routed)).toEqual(
      new Set([
        'connections',
        'syncstate',
        'syncreruns',
        'items',
        'changes',
        'feedticks',
        'audit',
        'idempotency',
        'heldsends',
        'sendconfirmations',
        'sendpolicies',
        'accounts',
        'subscriptions',
        'feedhealth',
        'eventcursors',
        'mcpgrants',
        'mcpsubscriptions',
      ]),
    );
    const shard = read('infra/core/storage/storage-shard.bicep');
    const bicepTables = /param tableNames array = \[([^\]]*)\]/.exec(shard)?.[1]?.match(/'([a-z]+)'/g);
    expect(new Set(bicepTables?.map((t) => t.slice(1, -1)))).toEqual(new Set(routed));
    expect(read('infra/main.bicep')).toMatch(
      /module storageShardAccounts 'core\/storage\/storage-shard\.bicep' = \[for k in range\(1, storageShards - 1\)/,
    );
    const storage = await hcl(join(TERRAFORM, 'main.storage.tf'));
    const locals = Object.assign({}, ...(storage.locals as Json[])) as { shard_table_names: string[] };
    expect(new Set(locals.shard_table_names)).toEqual(new Set(routed));
    const resources = storage.resource as Record<string, Record<string, Json[]>>;
    expect(resources.azurerm_storage_account?.shard?.[0]).toEqual(
      expect.objectContaining({ count: '${var.storage_shards - 1}', shared_access_key_enabled: false }),
    );
  });

  test('each shard grants the app identity the table and queue data roles only, and no shared keys', async () => {
    const shard = read('infra/core/storage/storage-shard.bicep');
    expect(shard).toMatch(/allowSharedKeyAccess:\s*false/);
    expect(new Set(bicepRoleGuids(shard, 'appPrincipalId'))).toEqual(
      new Set([ROLES['Storage Table Data Contributor'], ROLES['Storage Queue Data Contributor']]),
    );
    const storage = await hcl(join(TERRAFORM, 'main.storage.tf'));
    const roles = (storage.resource as Record<string, Record<string, Json[]>>).azurerm_role_assignment;
    for (const [name, role] of [
      ['shard_table', 'storage_table_data_contributor'],
      ['shard_queue', 'storage_queue_data_contributor'],
    ])
      expect(roles?.[name!]?.[0]).toEqual(
        expect.objectContaining({
          count: '${var.storage_shards - 1}',
          principal_id: '${azurerm_user_assigned_identity.app.principal_id}',
          role_definition_id: expect.stringContaining(role!),
        }),
      );
  });

  test('the app learns the count, and each shard’s table and queue endpoints with its identity, from both templates', async () => {
    expect(bicepSettings.STORAGE_SHARDS).toBe('string(length(storageShardAccountNames) + 1)');
    // Bicep: STORAGE_SHARD_k__{tableServiceUri, queueServiceUri, credential, clientId} per shard.
    const bicepShards = /var shardSettings = toObject\(([\s\S]*?)\n\)/.exec(apiBicep)?.[1] ?? '';
    for (const part of ['tableServiceUri', 'queueServiceUri', 'credential', 'clientId'])
      expect(bicepShards).toContain(`name: 'STORAGE_SHARD_\${i + 1}__${part}'`);
    expect(bicepShards).toMatch(/\.queue\.\$\{environment\(\)\.suffixes\.storage\}/);
    expect(bicepShards).toMatch(/value: identityClientId/);
    const tf = await terraformSettings();
    expect(tf.STORAGE_SHARDS).toBe('${tostring(var.storage_shards)}');
    const app = await terraformFunctionApp();
    expect(app.app_settings).toBe('${merge(local.function_app_settings, local.shard_app_settings)}');
    const shardSettings = String((await terraformLocals('main.function.tf')).shard_app_settings);
    for (const part of ['tableServiceUri', 'queueServiceUri', 'credential', 'clientId'])
      expect(shardSettings).toContain(`"STORAGE_SHARD_\${i + 1}__${part}"`);
    expect(shardSettings).toContain('shard.primary_queue_endpoint');
  });
});
