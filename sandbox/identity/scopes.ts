/**
 * Scope strings as the identity platform reads them (reference §7.2, §7.6): OIDC scopes, Graph
 * scopes in short (`Mail.Read`) or full (`https://graph.microsoft.com/Mail.Read`) form, and other
 * resources (`https://vault.azure.net/.default`).
 */
import { GRAPH_RESOURCE_ID, KEY_VAULT_RESOURCE } from '../tokens';

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

/** Resources the sandbox tenant knows, by every name a scope may use, and their token `aud`. */
const RESOURCES: Array<{ names: string[]; canonical: string; audience: string }> = [
  {
    names: [GRAPH_RESOURCE, `${GRAPH_RESOURCE}/`, GRAPH_RESOURCE_ID, 'https://graph.microsoft.com/v1.0'],
    canonical: GRAPH_RESOURCE,
    audience: GRAPH_RESOURCE_ID,
  },
  {
    names: [KEY_VAULT_RESOURCE, `${KEY_VAULT_RESOURCE}/`, 'cfa8b339-82a2-471a-a3c9-0fc0be7a4093'],
    canonical: KEY_VAULT_RESOURCE,
    audience: KEY_VAULT_RESOURCE,
  },
];

/**
 * [EMU] Delegated Graph permissions that need admin consent ("Admin consent required: Yes" in
 * https://learn.microsoft.com/graph/permissions-reference); users can't consent to them (§7.6).
 */
export const ADMIN_ONLY_SCOPES = new Set(
  [
    'ChannelMessage.Read.All',
    'User.Read.All',
    'User.ReadWrite.All',
    'Group.Read.All',
    'Group.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
    'People.Read.All',
    'TeamMember.Read.All',
    'OnlineMeetingTranscript.Read.All',
    'ChannelMessage.ReadWrite',
    'Channel.Create',
    'ChannelSettings.ReadWrite.All',
    'ChannelMember.ReadWrite.All',
    'TeamMember.ReadWrite.All',
    'OnlineMeetingRecording.Read.All',
    'OnlineMeetingArtifact.Read.All',
    'Place.Read.All',
    'AuditLog.Read.All',
  ].map((s) => s.toLowerCase()),
);

export interface ResourceScope {
  /** Canonical resource (https://graph.microsoft.com, https://vault.azure.net). */
  resource: string;
  audience: string;
  /** Scope name without the resource (Mail.Read, .default, user_impersonation). */
  name: string;
}

export interface ParsedScopes {
  oidc: Set<string>;
  resourceScopes: ResourceScope[];
  /** Scopes naming a resource the tenant doesn't have. */
  unknownResources: string[];
  resources(): string[];
}

export function parseScopes(raw: string | null | undefined): ParsedScopes {
  const oidc = new Set<string>();
  const resourceScopes: ResourceScope[] = [];
  const unknownResources: string[] = [];
  for (const token of (raw ?? '').split(/\s+/).filter(Boolean)) {
    const lower = token.toLowerCase();
    if ((OIDC_SCOPES as readonly string[]).includes(lower)) {
      oidc.add(lower);
      continue;
    }
    const slash = token.lastIndexOf('/');
    if (slash <= 0) {
      resourceScopes.push({ resource: GRAPH_RESOURCE, audience: GRAPH_RESOURCE_ID, name: token });
      continue;
    }
    const prefix = token.slice(0, slash).toLowerCase();
    const resource = RESOURCES.find((r) =>
      r.names.some((n) => n.toLowerCase().replace(/\/$/, '') === prefix),
    );
    if (!resource) {
      unknownResources.push(token);
      continue;
    }
    resourceScopes.push({
      resource: resource.canonical,
      audience: resource.audience,
      name: token.slice(slash + 1),
    });
  }
  return {
    oidc,
    resourceScopes,
    unknownResources,
    resources: () => [...new Set(resourceScopes.map((s) => s.resource))],
  };
}

/** How consents are stored on the user and the app: Graph short form, others in full. */
export function consentKey(scope: ResourceScope): string {
  return scope.resource === GRAPH_RESOURCE ? scope.name : `${scope.resource}/${scope.name}`;
}

export function sameScope(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function includesScope(list: readonly string[], scope: string): boolean {
  return list.some((s) => sameScope(s, scope));
}

/**
 * Human descriptions for the consent page: Microsoft's user-consent display names from the Graph
 * permissions reference (https://learn.microsoft.com/graph/permissions-reference). Every scope the
 * app requests has one (test/unit/scopes-docs.test.ts); an unknown scope falls back to its name.
 */
const DESCRIPTIONS: Record<string, string> = {
  openid: 'Sign you in',
  profile: 'View your basic profile',
  email: 'View your email address',
  offline_access: 'Maintain access to data you have given it access to',
  'user.read': 'Sign you in and read your profile',
  'mail.read': 'Read your mail',
  'mail.readwrite': 'Read and write access to your mail',
  'mail.send': 'Send mail as you',
  'mail.readwrite.shared': 'Read and write mail you can access, including shared mail',
  'mail.send.shared': 'Send mail on behalf of others or yourself',
  'mailboxsettings.read': 'Read your mailbox settings',
  'calendars.readwrite': 'Have full access to your calendars',
  'calendars.read': 'Read your calendars',
  'calendars.read.shared': 'Read calendars you can access, including shared calendars',
  'contacts.readwrite': 'Have full access to your contacts',
  'files.readwrite': 'Have full access to your files',
  'files.readwrite.all': 'Have full access to all files you have access to',
  'tasks.readwrite': 'Create, read, update and delete your tasks and task lists',
  'notes.readwrite': 'Read and write your OneNote notebooks',
  'chat.readwrite': 'Read and write your chat messages',
  'team.readbasic.all': 'Read the names and descriptions of teams',
  'channel.readbasic.all': 'Read the names and descriptions of channels',
  'user.readbasic.all': "Read all users' basic profiles",
  'channelmessage.send': 'Send channel messages',
  'channelmessage.read.all': 'Read all channel messages (admin consent required)',
  'mailboxsettings.readwrite': 'Read and write your mailbox settings',
  'people.read': 'Read your relevant people list',
  'people.read.all': "Read all users' relevant people lists (admin consent required)",
  'presence.read': 'Read your presence information',
  'presence.read.all': 'Read presence information of all users in your organization',
  'chat.read': 'Read your chat messages',
  'files.read.all': 'Read all files that you have access to',
  'sites.read.all': 'Read items in all site collections',
  'sites.readwrite.all': 'Edit or delete items in all site collections',
  'onlinemeetings.readwrite': 'Read and create your online meetings',
  'onlinemeetingtranscript.read.all': 'Read all transcripts of online meetings (admin consent required)',
  'onlinemeetingrecording.read.all': 'Read all recordings of online meetings (admin consent required)',
  'onlinemeetingartifact.read.all': 'Read online meeting artifacts (admin consent required)',
  'place.read.all': 'Read all company places (admin consent required)',
  'channelmessage.readwrite': 'Read and write user channel messages (admin consent required)',
  'channel.create': 'Create channels (admin consent required)',
  'channelsettings.readwrite.all':
    'Read and write the names, descriptions, and settings of channels (admin consent required)',
  'channelmember.readwrite.all': 'Add and remove members from channels (admin consent required)',
  'teammember.readwrite.all': 'Add and remove members from teams (admin consent required)',
  user_impersonation: 'Access Azure Key Vault as you',
};

export function describeScope(name: string): string {
  return DESCRIPTIONS[name.toLowerCase()] ?? name;
}
