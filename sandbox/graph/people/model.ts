/**
 * People and presence, computed from the sandbox's own data.
 *
 * People API (https://learn.microsoft.com/graph/people-insights-overview, api/user-list-people):
 * "the people most relevant to the user, ordered by relevance, based on the user's communication
 * and collaboration patterns and business relationships". Here relevance counts what a seeded
 * tenant has: mail from and to the person in the user's mailbox, meetings shared, chats shared;
 * the tenant's other users follow (organisation colleagues), then people only met in mail
 * (`personType.subclass` `ImplicitContact`). `$search` matches the start of a word of the name
 * or of the address (api/user-list-people, "Search people": "fuzzy matching on the name and
 * email address").
 *
 * Presence (https://learn.microsoft.com/graph/api/resources/presence): `availability` and
 * `activity` from their documented value sets; a user in a meeting now is Busy/InAMeeting,
 * anyone else is what the control API set or Available.
 */
import type { Sandbox } from '../../context';
import { persisted } from '../../persist';
import type { SandboxUser } from '../../state';
import { eventsRef } from '../calendar/events';
import { parseDateTimeTimeZone } from '../calendar/time';
import { graphState } from '../core';
import { refs as mailRefs } from '../mail/model';
import { isMember, teamRefs } from '../teams/model';

export const AVAILABILITY = [
  'Available',
  'AvailableIdle',
  'Away',
  'BeRightBack',
  'Busy',
  'BusyIdle',
  'DoNotDisturb',
  'Offline',
  'PresenceUnknown',
] as const;

export const ACTIVITY = [
  'Available',
  'Away',
  'BeRightBack',
  'Busy',
  'DoNotDisturb',
  'InACall',
  'InAConferenceCall',
  'Inactive',
  'InAMeeting',
  'Offline',
  'OffWork',
  'OutOfOffice',
  'PresenceUnknown',
  'Presenting',
  'UrgentInterruptionsOnly',
] as const;

interface PresenceState {
  availability: string;
  activity: string;
  statusMessage?: string;
}

interface PeopleModule {
  presence: Map<string, PresenceState>;
}

export function peopleState(sandbox: Sandbox): PeopleModule {
  let state = sandbox.modules.people as PeopleModule | undefined;
  if (state) return state;
  state = { presence: new Map() };
  sandbox.modules.people = state;
  const s = state;
  const saved = persisted(sandbox, 'people', () => ({ presence: s.presence }));
  if (saved) state.presence = saved.presence;
  return state;
}

/** A person as the People API renders a directory user (user-list-people example). */
export function personResource(u: SandboxUser, relevanceScore: number): Record<string, unknown> {
  return {
    id: u.id,
    displayName: u.displayName,
    givenName: u.givenName || null,
    surname: u.surname || null,
    birthday: '',
    personNotes: '',
    isFavorite: false,
    jobTitle: u.jobTitle,
    companyName: null,
    yomiCompany: '',
    department: null,
    officeLocation: null,
    profession: '',
    userPrincipalName: u.userPrincipalName,
    imAddress: `sip:${u.userPrincipalName}`,
    scoredEmailAddresses: [{ address: u.mail, relevanceScore, selectionLikelihood: 'notSpecified' }],
    phones: [],
    postalAddresses: [],
    websites: [],
    personType: { class: 'Person', subclass: 'OrganizationUser' },
  };
}

function implicitPerson(address: string, name: string, relevanceScore: number): Record<string, unknown> {
  return {
    id: Buffer.from(address).toString('base64url'),
    displayName: name || address,
    givenName: null,
    surname: null,
    birthday: '',
    personNotes: '',
    isFavorite: false,
    jobTitle: null,
    companyName: null,
    yomiCompany: '',
    department: null,
    officeLocation: null,
    profession: '',
    userPrincipalName: null,
    imAddress: null,
    scoredEmailAddresses: [{ address, relevanceScore, selectionLikelihood: 'notSpecified' }],
    phones: [],
    postalAddresses: [],
    websites: [],
    personType: { class: 'Person', subclass: 'ImplicitContact' },
  };
}

type Recipient = { emailAddress?: { name?: string; address?: string } };

/** The user's people, most relevant first. */
export function rankedPeople(sandbox: Sandbox, user: SandboxUser): Array<Record<string, unknown>> {
  const store = graphState(sandbox).store;
  const counts = new Map<string, { score: number; name: string }>();
  const bump = (r: unknown, weight: number) => {
    const e = (r as Recipient | null)?.emailAddress;
    const address = e?.address?.toLowerCase();
    if (!address || address === user.mail.toLowerCase()) return;
    const c = counts.get(address) ?? { score: 0, name: e?.name ?? '' };
    c.score += weight;
    counts.set(address, c);
  };
  for (const m of store.list(mailRefs(store, user.id).messages)) {
    bump(m.from, 1);
    for (const f of ['toRecipients', 'ccRecipients']) for (const r of (m[f] ?? []) as unknown[]) bump(r, 1);
  }
  for (const e of store.list(eventsRef(store, user.id))) {
    bump(e.organizer, 2);
    for (const a of (e.attendees ?? []) as unknown[]) bump(a, 2);
  }
  const users = [...sandbox.directory.users.values()].filter(
    (u) => u.tenantId === user.tenantId && u.id !== user.id,
  );
  const refs = teamRefs(store, user.tenantId);
  for (const chat of store.list(refs.chats).filter((c) => isMember(c, user.id))) {
    for (const u of users)
      if (isMember(chat, u.id)) bump({ emailAddress: { address: u.mail, name: u.displayName } }, 2);
  }
  const byMail = new Map(users.map((u) => [u.mail.toLowerCase(), u]));
  const people = users.map((u) => personResource(u, counts.get(u.mail.toLowerCase())?.score ?? 0));
  for (const [address, c] of counts) {
    if (!byMail.has(address)) people.push(implicitPerson(address, c.name, c.score));
  }
  const score = (p: Record<string, unknown>) =>
    ((p.scoredEmailAddresses as Array<{ relevanceScore: number }>)[0]?.relevanceScore ?? 0) +
    // Colleagues in the directory rank above strangers with the same traffic.
    ((p.personType as { subclass: string }).subclass === 'OrganizationUser' ? 0.5 : 0);
  return people.sort(
    (a, b) => score(b) - score(a) || String(a.displayName).localeCompare(String(b.displayName)),
  );
}

/** `$search` on people: every word of the query starts a word of the name or of the address. */
export function personMatches(person: Record<string, unknown>, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const address = (
    (person.scoredEmailAddresses as Array<{ address: string }>)[0]?.address ?? ''
  ).toLowerCase();
  const haystack =
    `${(typeof person.displayName === 'string' ? person.displayName : '').toLowerCase()} ${address.replace(/[@.]/g, ' ')}`
      .split(/[\s,]+/)
      .filter(Boolean);
  return words.every((w) => haystack.some((h) => h.startsWith(w)) || address.startsWith(w));
}

/** A user's presence now (presence.md): a meeting in progress makes them Busy / InAMeeting. */
export function presenceOf(sandbox: Sandbox, user: SandboxUser): Record<string, unknown> {
  const set = peopleState(sandbox).presence.get(user.id);
  let availability = set?.availability ?? 'Available';
  let activity = set?.activity ?? 'Available';
  if (!set || set.availability === 'Available') {
    const store = graphState(sandbox).store;
    const now = sandbox.now();
    const inMeeting = store.list(eventsRef(store, user.id)).some((e) => {
      if (!e.start || !e.end || e.isCancelled === true || e.showAs === 'free') return false;
      const start = parseDateTimeTimeZone(e.start, 'Start').ms;
      const end = parseDateTimeTimeZone(e.end, 'End').ms;
      return start <= now && now < end;
    });
    if (inMeeting) {
      availability = 'Busy';
      activity = 'InAMeeting';
    }
  }
  return {
    id: user.id,
    availability,
    activity,
    statusMessage: set?.statusMessage
      ? {
          message: { content: set.statusMessage, contentType: 'text' },
          expiryDateTime: null,
          publishedDateTime: null,
        }
      : null,
    outOfOfficeSettings: { message: null, isOutOfOffice: activity === 'OutOfOffice' },
  };
}
