/**
 * Mailbox settings (https://learn.microsoft.com/graph/api/resources/mailboxsettings): read
 * (user-get-mailboxsettings.md) and update (user-update-mailboxsettings.md), automatic replies
 * that the sandbox really sends, and MailTips (user-getmailtips.md).
 *
 * - `PATCH /me/mailboxSettings` takes any of the writable properties; nested complex values are
 *   merged into what is set (the documented examples PATCH `automaticRepliesSetting` with only
 *   `status` and the schedule). It answers 200 with the properties it was given, as set.
 *   Validation follows the CSDL's types and enums (`RequestBodyRead` for an unknown property or
 *   enum member), Graph's `TimeZoneNotSupportedException` for unknown zones, and Exchange's rules
 *   for the schedule (an end after the start) and working hours.
 * - Automatic replies: while `alwaysEnabled`, or `scheduled` with the sandbox clock inside the
 *   window, a message arriving in the Inbox gets one reply per sender (Exchange keeps a list of
 *   senders already answered and clears it when the setting changes): the internal message to
 *   senders of the same tenant, the external one to others when `externalAudience` is `all`, or
 *   `contactsOnly` and the sender is among the user's contacts. Automatic replies are never
 *   answered (`Auto-Submitted: auto-replied`, RFC 3834).
 */
import type { Sandbox } from '../../context';
import { enumValue, invalid, requestBodyRead, unknownProperty } from './input';
import { persisted } from '../../persist';
import type { SandboxUser } from '../../state';
import { formatLocal, parseDateTimeTimeZone, resolveZone, toDateTimeTimeZone } from '../calendar/time';
import { toWindowsZone } from '../timezones';
import { CONTACTS } from '../contacts';
import { graphState } from '../core';

export type RepliesStatus = 'disabled' | 'alwaysEnabled' | 'scheduled';
export type ExternalAudience = 'none' | 'contactsOnly' | 'all';
type DateTimeTimeZone = { dateTime: string; timeZone: string };

export interface StoredSettings {
  automaticReplies: {
    status: RepliesStatus;
    externalAudience: ExternalAudience;
    internalReplyMessage: string;
    externalReplyMessage: string;
    scheduledStartDateTime: DateTimeTimeZone;
    scheduledEndDateTime: DateTimeTimeZone;
  };
  /** The zone name as the user set it (Windows or IANA); the directory keeps the IANA zone. */
  timeZone?: string;
  language: { locale: string; displayName: string };
  dateFormat: string;
  timeFormat: string;
  archiveFolder: string | null;
  delegateMeetingMessageDeliveryOptions: string;
  /** Lower-cased addresses already sent an automatic reply since the setting last changed. */
  repliedTo: string[];
}

interface MailboxSettingsModule {
  settings: Record<string, StoredSettings>;
  /** User ids whose mailbox the control API marked full (MailTips `mailboxFull`). */
  full: string[];
}

export function mailboxSettingsState(sandbox: Sandbox): MailboxSettingsModule {
  let state = sandbox.modules.mailboxSettings as MailboxSettingsModule | undefined;
  if (!state) {
    state = { settings: {}, full: [] };
    sandbox.modules.mailboxSettings = state;
    const s = state;
    const saved = persisted(sandbox, 'mailboxSettings', () => ({ settings: s.settings, full: s.full }));
    if (saved) Object.assign(state, saved);
  }
  return state;
}

function defaults(): StoredSettings {
  return {
    automaticReplies: {
      status: 'disabled',
      externalAudience: 'all',
      internalReplyMessage: '',
      externalReplyMessage: '',
      scheduledStartDateTime: { dateTime: '2020-01-01T00:00:00.0000000', timeZone: 'UTC' },
      scheduledEndDateTime: { dateTime: '2020-01-02T00:00:00.0000000', timeZone: 'UTC' },
    },
    language: { locale: 'en-US', displayName: 'English (United States)' },
    dateFormat: 'M/d/yyyy',
    timeFormat: 'h:mm tt',
    archiveFolder: null,
    delegateMeetingMessageDeliveryOptions: 'sendToDelegateOnly',
    repliedTo: [],
  };
}

export function storedSettings(sandbox: Sandbox, userId: string): StoredSettings {
  const all = mailboxSettingsState(sandbox).settings;
  all[userId] ??= defaults();
  return all[userId];
}

/** The mailboxSettings resource as GET answers it. */
export function mailboxSettings(sandbox: Sandbox, user: SandboxUser): Record<string, unknown> {
  const s = storedSettings(sandbox, user.id);
  // Graph reports mailbox time zones in Windows names unless one was set otherwise
  // (user-get-mailboxsettings.md example).
  const tz = s.timeZone ?? toWindowsZone(user.timeZone);
  return {
    archiveFolder: s.archiveFolder,
    timeZone: tz,
    automaticRepliesSetting: { ...s.automaticReplies },
    language: { ...s.language },
    dateFormat: s.dateFormat,
    timeFormat: s.timeFormat,
    delegateMeetingMessageDeliveryOptions: s.delegateMeetingMessageDeliveryOptions,
    userPurpose: 'user',
    workingHours: {
      daysOfWeek: user.workingHours.daysOfWeek,
      startTime: user.workingHours.startTime,
      endTime: user.workingHours.endTime,
      timeZone: { name: tz },
    },
  };
}

// ---------------------------------------------------------------- update

function text(value: unknown, field: string, max = 256): string {
  if (typeof value !== 'string') throw requestBodyRead(`The value of '${field}' must be a string.`);
  if (value.length > max) throw invalid(`The value of '${field}' is longer than ${max} characters.`);
  return value;
}

function object(value: unknown, type: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw requestBodyRead(`A value of type 'microsoft.graph.${type}' is expected.`);
  }
  return value as Record<string, unknown>;
}

const WRITABLE = [
  'automaticRepliesSetting',
  'archiveFolder',
  'timeZone',
  'language',
  'workingHours',
  'dateFormat',
  'timeFormat',
  'delegateMeetingMessageDeliveryOptions',
] as const;
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const DELEGATE_OPTIONS = [
  'sendToDelegateAndInformationToPrincipal',
  'sendToDelegateAndPrincipal',
  'sendToDelegateOnly',
] as const;
/** Outlook's short date and time formats (the choices its settings page offers). */
const DATE_FORMAT = /^(?:[dMy]{1,4}[./\- ]){2}[dMy]{1,4}$/;
const TIME_FORMAT = /^(?:h|hh|H|HH)[:.]mm(?: tt)?$/;
const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,7})?)?$/;

function timeOfDay(value: unknown, field: string): string {
  const m = typeof value === 'string' ? TIME_OF_DAY.exec(value) : null;
  if (!m)
    throw requestBodyRead(
      `Cannot convert the literal '${String(value)}' to the expected type 'Edm.TimeOfDay' (${field}).`,
    );
  return `${m[1]}:${m[2]}:${m[3] ?? '00'}.0000000`;
}

/**
 * Applies a PATCH body to the user's settings (all checks first: a bad value changes nothing);
 * returns the properties given, as now set.
 */
export function updateMailboxSettings(
  sandbox: Sandbox,
  user: SandboxUser,
  body: Record<string, unknown>,
): Record<string, unknown> {
  for (const key of Object.keys(body)) {
    if (key.startsWith('@odata.')) continue;
    if (key === 'userPurpose') throw invalid("The property 'userPurpose' is read-only.");
    if (!(WRITABLE as readonly string[]).includes(key)) throw unknownProperty(key, 'mailboxSettings');
  }
  const current = storedSettings(sandbox, user.id);
  const next: StoredSettings = structuredClone(current);
  const directory = { timeZone: user.timeZone, workingHours: { ...user.workingHours } };

  if ('automaticRepliesSetting' in body) {
    const given = object(body.automaticRepliesSetting, 'automaticRepliesSetting');
    const r = next.automaticReplies;
    for (const [key, value] of Object.entries(given)) {
      if (key.startsWith('@odata.')) continue;
      switch (key) {
        case 'status':
          r.status = enumValue(value, ['disabled', 'alwaysEnabled', 'scheduled'], 'automaticRepliesStatus');
          break;
        case 'externalAudience':
          r.externalAudience = enumValue(value, ['none', 'contactsOnly', 'all'], 'externalAudienceScope');
          break;
        case 'internalReplyMessage':
        case 'externalReplyMessage':
          // Exchange keeps up to 128 KB of reply text (Set-MailboxAutoReplyConfiguration).
          r[key] = text(value, key, 128 * 1024);
          break;
        case 'scheduledStartDateTime':
        case 'scheduledEndDateTime': {
          const parsed = parseDateTimeTimeZone(value, key);
          r[key] = {
            dateTime: formatLocal(parsed.local),
            timeZone: String((value as DateTimeTimeZone).timeZone),
          };
          break;
        }
        default:
          throw unknownProperty(key, 'automaticRepliesSetting');
      }
    }
    if (r.status === 'scheduled' && windowOf(r).end <= windowOf(r).start) {
      throw invalid(
        'The scheduledEndDateTime of automatic replies must be later than the scheduledStartDateTime.',
      );
    }
  }
  if ('timeZone' in body) {
    const name = text(body.timeZone, 'timeZone');
    directory.timeZone = resolveZone(name);
    next.timeZone = name;
  }
  if ('language' in body) {
    const given = object(body.language, 'localeInfo');
    for (const key of Object.keys(given)) {
      if (key !== 'locale' && key !== 'displayName' && !key.startsWith('@odata.'))
        throw unknownProperty(key, 'localeInfo');
    }
    next.language = locale(given.locale);
  }
  if ('dateFormat' in body) {
    const value = text(body.dateFormat, 'dateFormat');
    if (!DATE_FORMAT.test(value))
      throw invalid(
        `'${value}' is not a supported dateFormat; use one such as M/d/yyyy, dd.MM.yyyy or yyyy-MM-dd.`,
      );
    next.dateFormat = value;
  }
  if ('timeFormat' in body) {
    const value = text(body.timeFormat, 'timeFormat');
    if (!TIME_FORMAT.test(value))
      throw invalid(`'${value}' is not a supported timeFormat; use one such as h:mm tt or HH:mm.`);
    next.timeFormat = value;
  }
  if ('archiveFolder' in body) {
    next.archiveFolder = body.archiveFolder === null ? null : text(body.archiveFolder, 'archiveFolder', 512);
  }
  if ('delegateMeetingMessageDeliveryOptions' in body) {
    next.delegateMeetingMessageDeliveryOptions = enumValue(
      body.delegateMeetingMessageDeliveryOptions,
      DELEGATE_OPTIONS,
      'delegateMeetingMessageDeliveryOptions',
    );
  }
  if ('workingHours' in body) {
    const given = object(body.workingHours, 'workingHours');
    const w = directory.workingHours;
    for (const [key, value] of Object.entries(given)) {
      if (key.startsWith('@odata.')) continue;
      switch (key) {
        case 'daysOfWeek':
          if (!Array.isArray(value)) throw requestBodyRead('daysOfWeek must be a collection of dayOfWeek.');
          w.daysOfWeek = [...new Set(value.map((d) => enumValue(d, DAYS, 'dayOfWeek')))];
          break;
        case 'startTime':
        case 'endTime':
          w[key] = timeOfDay(value, key);
          break;
        case 'timeZone': {
          const zone = object(value, 'timeZoneBase');
          // Custom zones (customTimeZone with bias and transitions) are not supported here.
          if (zone.bias !== undefined || zone.standardOffset !== undefined) {
            throw invalid(
              'Custom time zones are not supported for working hours in this sandbox; give a name.',
            );
          }
          const name = text(zone.name, 'timeZone.name');
          directory.timeZone = resolveZone(name);
          next.timeZone = name;
          break;
        }
        default:
          throw unknownProperty(key, 'workingHours');
      }
    }
    if (w.startTime >= w.endTime)
      throw invalid('The working hours endTime must be later than the startTime.');
  }

  // Every check passed: apply. Changing automatic replies starts a new list of senders answered.
  if ('automaticRepliesSetting' in body) next.repliedTo = [];
  mailboxSettingsState(sandbox).settings[user.id] = next;
  user.timeZone = directory.timeZone;
  user.workingHours = directory.workingHours;
  const rendered = mailboxSettings(sandbox, user);
  return Object.fromEntries(
    Object.keys(body)
      .filter((k) => !k.startsWith('@odata.'))
      .map((k) => [k, k === 'automaticRepliesSetting' ? rendered.automaticRepliesSetting : rendered[k]]),
  );
}

function locale(value: unknown): { locale: string; displayName: string } {
  const tag = typeof value === 'string' ? value : '';
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    if (!canonical || !/^[a-z]{2,3}-[A-Z]{2}$/.test(canonical)) throw new RangeError(tag);
    const names = new Intl.DisplayNames(['en'], { type: 'language' });
    const region = new Intl.DisplayNames(['en'], { type: 'region' });
    const [lang, country] = canonical.split('-') as [string, string];
    return { locale: canonical, displayName: `${names.of(lang) ?? lang} (${region.of(country) ?? country})` };
  } catch {
    throw invalid(`'${tag}' is not a supported language; give a locale such as en-US or de-DE.`);
  }
}

// ---------------------------------------------------------------- automatic replies

function windowOf(r: StoredSettings['automaticReplies']): { start: number; end: number } {
  return {
    start: parseDateTimeTimeZone(r.scheduledStartDateTime, 'scheduledStartDateTime').ms,
    end: parseDateTimeTimeZone(r.scheduledEndDateTime, 'scheduledEndDateTime').ms,
  };
}

/** Whether automatic replies are on at `now` (the sandbox clock). */
export function repliesActive(r: StoredSettings['automaticReplies'], now: number): boolean {
  if (r.status === 'alwaysEnabled') return true;
  if (r.status !== 'scheduled') return false;
  const { start, end } = windowOf(r);
  return now >= start && now < end;
}

export interface AutomaticReply {
  subject: string;
  html: string;
}

/**
 * The automatic reply `recipient` sends to `sender` for a message just delivered, if any; notes
 * the sender as answered. Who the sender is (the organization, the recipient's contacts) is only
 * looked up while replies are on.
 */
export function automaticReplyFor(
  sandbox: Sandbox,
  recipient: SandboxUser,
  sender: string,
  message: { subject: string; autoSubmitted: boolean },
): AutomaticReply | undefined {
  const s = storedSettings(sandbox, recipient.id);
  const r = s.automaticReplies;
  const address = sender.toLowerCase();
  if (message.autoSubmitted || address === recipient.mail.toLowerCase()) return undefined;
  if (!repliesActive(r, sandbox.now())) return undefined;
  if (s.repliedTo.includes(address)) return undefined;
  let html: string;
  if (isInternal(sandbox, recipient, sender)) html = r.internalReplyMessage;
  else if (
    r.externalAudience === 'all' ||
    (r.externalAudience === 'contactsOnly' && inContacts(sandbox, recipient, address))
  )
    html = r.externalReplyMessage;
  else return undefined;
  s.repliedTo.push(address);
  return { subject: `Automatic reply: ${message.subject}`, html };
}

function inContacts(sandbox: Sandbox, user: SandboxUser, address: string): boolean {
  const store = graphState(sandbox).store;
  return store
    .list(store.collection(user.id, CONTACTS))
    .some((c) =>
      ((c.emailAddresses ?? []) as Array<{ address?: string }>).some(
        (e) => e.address?.toLowerCase() === address,
      ),
    );
}

// ---------------------------------------------------------------- MailTips

/**
 * Whether an address belongs to `user`'s organization: a mailbox of the same tenant, or (for an
 * address no mailbox has) one of the tenant's mail domains.
 */
export function isInternal(sandbox: Sandbox, user: SandboxUser, address: string): boolean {
  const known = sandbox.directory.findUser(address);
  if (known) return known.tenantId === user.tenantId;
  const domain = (a: string) => a.slice(a.lastIndexOf('@') + 1).toLowerCase();
  return [...sandbox.directory.users.values()].some(
    (u) => u.tenantId === user.tenantId && domain(u.mail) === domain(address),
  );
}

export const MAIL_TIPS_TYPES = [
  'automaticReplies',
  'mailboxFullStatus',
  'customMailTip',
  'externalMemberCount',
  'totalMemberCount',
  'maxMessageSize',
  'deliveryRestriction',
  'moderationStatus',
  'recipientScope',
  'recipientSuggestions',
] as const;
export type MailTipsType = (typeof MAIL_TIPS_TYPES)[number];

/** `MailTipsOptions`: flags joined by commas ("automaticReplies, mailboxFullStatus"). */
export function parseMailTipsOptions(value: unknown): Set<MailTipsType> {
  if (typeof value !== 'string' || !value.trim()) {
    throw requestBodyRead(
      'The parameter \'MailTipsOptions\' is required: e.g. "automaticReplies, mailboxFullStatus".',
    );
  }
  return new Set(value.split(',').map((part) => enumValue(part.trim(), MAIL_TIPS_TYPES, 'mailTipsType')));
}

/** One recipient's MailTips, as asked, seen by `caller` (user-getmailtips.md). */
export function mailTipsFor(
  sandbox: Sandbox,
  caller: SandboxUser,
  address: string,
  options: Set<MailTipsType>,
  maxMessageSize: number,
): Record<string, unknown> {
  const target = sandbox.directory.findUser(address);
  const internal = isInternal(sandbox, caller, address);
  const tip: Record<string, unknown> = { emailAddress: { name: target?.displayName ?? '', address } };
  if (internal && !target) {
    // An address of the organization's domain that no mailbox has.
    tip.error = { code: 'UnableToFindRecipient', message: `The recipient ${address} was not found.` };
    return tip;
  }
  if (options.has('automaticReplies')) {
    const s = target ? storedSettings(sandbox, target.id) : undefined;
    const r = s?.automaticReplies;
    // Outside the organization nobody can see another mailbox's automatic replies.
    if (s && r && internal && repliesActive(r, sandbox.now())) {
      const zone = 'UTC';
      const { start, end } = windowOf(r);
      tip.automaticReplies = {
        message: r.internalReplyMessage,
        messageLanguage: { ...s.language },
        ...(r.status === 'scheduled'
          ? {
              scheduledStartTime: toDateTimeTimeZone(start, zone, zone),
              scheduledEndTime: toDateTimeTimeZone(end, zone, zone),
            }
          : {}),
      };
    } else tip.automaticReplies = { message: '' };
  }
  if (options.has('mailboxFullStatus')) {
    tip.mailboxFull = target ? mailboxSettingsState(sandbox).full.includes(target.id) : false;
  }
  if (options.has('maxMessageSize')) tip.maxMessageSize = maxMessageSize;
  if (options.has('recipientScope')) tip.recipientScope = internal ? 'internal' : 'external';
  if (options.has('customMailTip')) tip.customMailTip = '';
  if (options.has('deliveryRestriction')) tip.deliveryRestricted = false;
  if (options.has('moderationStatus')) tip.isModerated = false;
  if (options.has('externalMemberCount')) tip.externalMemberCount = 0;
  if (options.has('totalMemberCount')) tip.totalMemberCount = 1;
  if (options.has('recipientSuggestions')) tip.recipientSuggestions = [];
  return tip;
}
