/**
 * Features and the delegated Graph scopes each needs (least privilege). OIDC scopes are always
 * requested; MSAL adds openid/profile/offline_access itself, but we list them so the consent
 * page and the stored grant are explicit.
 */
import type { Feature } from '../config';

export const BASE_SCOPES = ['openid', 'profile', 'offline_access', 'User.Read'] as const;

export const FEATURE_SCOPES: Record<Feature, readonly string[]> = {
  mail: ['Mail.ReadWrite', 'Mail.Send'],
  'mail-shared': ['Mail.ReadWrite.Shared', 'Mail.Send.Shared'],
  // MailboxSettings.Read: the user's time zone and working hours, for scheduling in their day.
  calendar: ['Calendars.ReadWrite', 'Calendars.Read.Shared', 'MailboxSettings.Read'],
  files: ['Files.ReadWrite.All'],
  // User.ReadBasic.All: resolve an @mention given by UPN to the user's id and name (no admin consent).
  teams: [
    'Team.ReadBasic.All',
    'Channel.ReadBasic.All',
    'ChannelMessage.Send',
    'Chat.ReadWrite',
    'User.ReadBasic.All',
  ],
  'teams-history': ['ChannelMessage.Read.All'],
  contacts: ['Contacts.ReadWrite'],
  todo: ['Tasks.ReadWrite'],
  // People API (relevance-ranked), the directory for colleagues not yet met, Teams presence.
  people: ['People.Read', 'User.ReadBasic.All', 'Presence.Read.All'],
  // SharePoint sites, lists and list items (libraries' files also need Sites.*.All or Files.*.All).
  // Delegated, so never more than the user can reach in SharePoint; no admin consent. Admins who
  // restrict the app to chosen sites use Sites.Selected instead (docs/deployment.md).
  sharepoint: ['Sites.Read.All'],
  'sharepoint-write': ['Sites.Read.All', 'Sites.ReadWrite.All'],
  // Teams meetings the user organizes (create, find by join URL): users can consent.
  meetings: ['OnlineMeetings.ReadWrite'],
  // What meetings leave behind (transcripts, recordings, attendance): admin consent, so apart.
  'meetings-content': [
    'OnlineMeetingTranscript.Read.All',
    'OnlineMeetingRecording.Read.All',
    'OnlineMeetingArtifact.Read.All',
  ],
  // The tenant's rooms and room lists (place-list.md): admin consent, so apart from calendar.
  rooms: ['Place.Read.All'],
  // Out of office, working hours, master categories and Inbox rules: writing them is apart from
  // mail (incremental consent), since a rule can forward every arriving message.
  'mailbox-settings': ['MailboxSettings.ReadWrite'],
  // Managing Teams beyond one's own chats: editing and deleting channel messages, creating and
  // changing channels, adding and removing team and channel members. All need admin consent.
  'teams-manage': [
    'ChannelMessage.ReadWrite',
    'Channel.Create',
    'ChannelSettings.ReadWrite.All',
    'ChannelMember.ReadWrite.All',
    'TeamMember.ReadWrite.All',
  ],
  // Planner: the plans of the user's groups and their tasks (Tasks.ReadWrite, the scope To Do
  // also uses: granting one grants both); User.ReadBasic.All finds an assignee's object id by
  // sign-in address. No admin consent.
  planner: ['Tasks.ReadWrite', 'User.ReadBasic.All'],
  // OneNote: the user's notebooks, sections and pages (personal accounts too; no admin consent).
  onenote: ['Notes.ReadWrite'],
};

/** Features a personal Microsoft account cannot have (Teams and SharePoint are work/school only). */
export const WORK_ONLY_FEATURES: readonly Feature[] = [
  'teams',
  'teams-history',
  'teams-manage',
  'mail-shared',
  'people',
  'sharepoint',
  'sharepoint-write',
  'meetings',
  'meetings-content',
  'rooms',
  'planner',
];

/** Scopes that always need an administrator's consent. */
export const ADMIN_CONSENT_SCOPES: readonly string[] = [
  'ChannelMessage.Read.All',
  'OnlineMeetingTranscript.Read.All',
  'OnlineMeetingRecording.Read.All',
  'OnlineMeetingArtifact.Read.All',
  'Place.Read.All',
  'ChannelMessage.ReadWrite',
  'Channel.Create',
  'ChannelSettings.ReadWrite.All',
  'ChannelMember.ReadWrite.All',
  'TeamMember.ReadWrite.All',
];

const OIDC = new Set(['openid', 'profile', 'offline_access']);

export function scopesFor(features: readonly Feature[]): string[] {
  const scopes = new Set<string>(BASE_SCOPES);
  for (const feature of features) for (const scope of FEATURE_SCOPES[feature]) scopes.add(scope);
  return [...scopes];
}

/** The Graph resource scopes (what acquireTokenSilent asks for), without the OIDC ones. */
export function resourceScopes(scopes: readonly string[]): string[] {
  return scopes.filter((s) => !OIDC.has(s.toLowerCase()));
}

/** Normalises scopes returned by the token endpoint (may be full URIs) to short names. */
export function shortScope(scope: string): string {
  return scope.replace(/^https:\/\/graph\.microsoft\.com\//i, '');
}

/** Features fully covered by a granted scope list. */
export function grantedFeatures(granted: readonly string[]): Feature[] {
  const have = new Set(granted.map((s) => shortScope(s).toLowerCase()));
  return (Object.keys(FEATURE_SCOPES) as Feature[]).filter((f) =>
    FEATURE_SCOPES[f].every((s) => have.has(s.toLowerCase())),
  );
}
