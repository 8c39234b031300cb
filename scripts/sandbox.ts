/**
 * `npm run sandbox`: only the sandbox, for any Graph client (docs/sandbox.md). Prints what a
 * client needs: the base URLs, the CA file to trust, the app registration, the seeded users and
 * a ready access token. In memory unless `--state <dir>` is given (npm start's tenant lives in
 * .local/sandbox; pass that directory to share it while npm start is not running).
 */
import { startSandbox } from '../sandbox';
import { SEED_USERS } from '../sandbox/seed';
import { sampleSettings } from './harness';

const USAGE = 'usage: npm run sandbox [-- --port <n>] [-- --state <dir>]';

/** Scopes the printed token carries: what the product's features use, delegated. */
const TOKEN_SCOPES = [
  'User.Read',
  'Mail.ReadWrite',
  'Mail.Send',
  'Calendars.ReadWrite',
  'Files.ReadWrite',
  'Contacts.ReadWrite',
  'Tasks.ReadWrite',
  'Chat.ReadWrite',
  'ChannelMessage.Send',
  'Team.ReadBasic.All',
  'Channel.ReadBasic.All',
];

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const value = args[i + 1];
  if (!value || value.startsWith('--')) throw new Error(`${name} needs a value\n${USAGE}`);
  return value;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const known = new Set(['--port', '--state']);
  const unknown = args.filter((a, i) => a.startsWith('--') && !known.has(a) && !known.has(args[i - 1] ?? ''));
  if (unknown.length) throw new Error(`unknown option(s): ${unknown.join(' ')}\n${USAGE}`);
  const port = Number(option(args, '--port') ?? process.env.SANDBOX_PORT ?? 7443);
  const stateDir = option(args, '--state');
  const settings = sampleSettings();
  const app = {
    clientId: settings.MICROSOFT_CLIENT_ID!,
    clientSecret: settings.MICROSOFT_CLIENT_SECRET!,
    redirectUris: [settings.MICROSOFT_REDIRECT_URI!, 'http://localhost'],
  };
  const sandbox = await startSandbox({ port, app, ...(stateDir ? { stateDir } : {}) });
  const token = await fetch(`${sandbox.url}/_sandbox/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: SEED_USERS[0].userPrincipalName, scopes: TOKEN_SCOPES }),
  }).then(async (r) => ((await r.json()) as { access_token: string }).access_token);
  const ca = process.env.NODE_EXTRA_CA_CERTS ?? '.local/certs/sandbox-ca.pem';
  const lines = [
    'Sandbox ready: a local Microsoft 365 tenant (identity platform, Graph v1.0, Key Vault).',
    '',
    `  Graph base URL       ${sandbox.graphBaseUrl}`,
    `  Authority host       ${sandbox.authorityHost}   (tenant ${sandbox.tenantId}, or "common"/"organizations")`,
    `  Token endpoint       ${sandbox.authorityHost}/${sandbox.tenantId}/oauth2/v2.0/token`,
    `  Key Vault URL        ${sandbox.keyVaultUrl}`,
    `  Sign-in pages (http) ${sandbox.browserUrl}`,
    `  Control API          ${sandbox.url}/_sandbox/   (users, tokens, clock, faults, request log)`,
    `  CA to trust          ${ca}   (Node: NODE_EXTRA_CA_CERTS=${ca})`,
    '',
    `  App registration     client id ${app.clientId}`,
    `                       client secret ${app.clientSecret}`,
    `                       redirect URIs ${app.redirectUris.join(', ')}`,
    '',
    `  Users                ${SEED_USERS.map((u) => u.userPrincipalName).join(', ')}`,
    `                       (any password; sign-ins are approved on the sandbox's consent page)`,
    '',
    `  Access token for ${SEED_USERS[0].userPrincipalName} (1 h; ${TOKEN_SCOPES.join(' ')}):`,
    token,
    '',
    `  Try: curl --cacert ${ca} -H "Authorization: Bearer $TOKEN" ${sandbox.graphBaseUrl}/me`,
    `  ${stateDir ? `State kept in ${stateDir}.` : 'In memory: everything is gone when it stops (--state <dir> keeps it).'} Ctrl-C stops it.`,
  ];
  console.log(lines.join('\n'));
  const stop = () => {
    void sandbox.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
