/**
 * Mail management kept per mailbox: the master category list, Inbox rules and Focused Inbox
 * overrides, and what they do to arriving mail.
 *
 * - Master categories (https://learn.microsoft.com/graph/api/resources/outlookcategory):
 *   `GET|POST /me/outlook/masterCategories`, `GET|PATCH|DELETE .../{id}`. The display name is
 *   unique in the list (case-insensitive) and cannot change once created (outlookcategory-update.md:
 *   only `color` is writable); colours are `none` or `preset0`–`preset24`. The docs name no error for
 *   a duplicate name: 409 `ErrorItemAlreadyExists` here. Messages keep categories by name, so a
 *   deleted category stays on the messages that carry it, as in Outlook.
 * - Inbox rules (https://learn.microsoft.com/graph/api/resources/messagerule):
 *   `GET|POST /me/mailFolders/inbox/messageRules`, `GET|PATCH|DELETE .../{id}`. Enabled rules run
 *   in `sequence` order on each message delivered to the Inbox; a rule applies when every
 *   condition given holds and no exception does; `stopProcessingRules` ends the run. Delivery
 *   puts the message where the rules say in one step (no Inbox copy first), as Exchange does.
 * - Focused Inbox overrides (https://learn.microsoft.com/graph/api/resources/inferenceclassificationoverride):
 *   `GET|POST /me/inferenceClassification/overrides`, `PATCH|DELETE .../{id}`: mail from the sender
 *   arriving later is classified `focused` or `other`. Creating one for a sender that has one
 *   updates it (inferenceclassification-post-overrides.md).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Sandbox } from '../../context';
import { enumValue, invalid, requestBodyRead, unknownProperty } from './input';
import { empty } from '../../http';
import type { SandboxUser } from '../../state';
import { contextPath, entityResponse, graphRoute, graphState, type GraphCtx } from '../core';
import { GraphHttpError, notFound } from '../errors';
import { ensureMailbox, resolveFolder, type Recipient } from '../mail/model';
import { collection } from '../paging';
import type { ChangeStore, Entity } from '../store';

const CATEGORIES = 'outlookCategories';
const RULES = 'messageRules';
const OVERRIDES = 'inferenceClassificationOverrides';

const SETTINGS_READ = { anyOf: ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'] };
const SETTINGS_WRITE = { anyOf: ['MailboxSettings.ReadWrite'] };
const MAIL_READ = { anyOf: ['Mail.Read'] };
const MAIL_WRITE = { anyOf: ['Mail.ReadWrite'] };

export const CATEGORY_COLORS = ['none', ...Array.from({ length: 25 }, (_, i) => `preset${i}`)] as const;

function owner(ctx: GraphCtx): SandboxUser {
  const user = ctx.user;
  if (!user) throw notFound('outlook');
  return user;
}

async function bodyOf(ctx: GraphCtx): Promise<Record<string, unknown>> {
  const body = await ctx.json<unknown>();
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw requestBodyRead('A JSON object is expected.');
  return body as Record<string, unknown>;
}

/** `@odata.context` of one item addressed by id: the collection's, then `/$entity`. */
function byIdContext(ctx: GraphCtx): { context: string } {
  return { context: `${contextPath(ctx).replace(/\/[^/]+$/, '')}/$entity` };
}

function visible(e: Entity): Record<string, unknown> {
  return Object.fromEntries(Object.entries(e).filter(([k]) => !k.startsWith('_')));
}

// ---------------------------------------------------------------- categories

/** The user's master category list (store collection). */
export function categoriesOf(store: ChangeStore, userId: string): Entity[] {
  return store.list(store.collection(userId, CATEGORIES));
}

function renderCategory(c: Entity): Record<string, unknown> {
  return { id: c.id, displayName: c.displayName, color: c.color };
}

function installCategories(sandbox: Sandbox): void {
  const base = '/me/outlook/masterCategories';
  const col = (ctx: GraphCtx) => ctx.graph.store.collection(owner(ctx).id, CATEGORIES);
  const find = (ctx: GraphCtx) => {
    const c = ctx.graph.store.get(col(ctx), ctx.params.id!);
    if (!c) throw notFound('outlook');
    return c;
  };

  graphRoute(sandbox, 'GET', base, { scopes: SETTINGS_READ }, (ctx) =>
    collection(ctx, categoriesOf(ctx.graph.store, owner(ctx).id).map(renderCategory), {
      kind: 'outlook',
      defaultTop: 1000,
    }),
  );
  graphRoute(sandbox, 'GET', `${base}/:id`, { scopes: SETTINGS_READ }, (ctx) =>
    entityResponse(ctx, renderCategory(find(ctx)), byIdContext(ctx)),
  );
  graphRoute(sandbox, 'POST', base, { scopes: SETTINGS_WRITE }, async (ctx) => {
    const body = await bodyOf(ctx);
    for (const key of Object.keys(body)) {
      if (!['displayName', 'color', 'id'].includes(key) && !key.startsWith('@odata.'))
        throw unknownProperty(key, 'outlookCategory');
    }
    const name = typeof body.displayName === 'string' ? body.displayName.trim() : '';
    if (!name) throw invalid('The displayName of a category is required.');
    if (name.length > 255) throw invalid('The displayName of a category is at most 255 characters.');
    const color = body.color === undefined ? 'none' : enumValue(body.color, CATEGORY_COLORS, 'categoryColor');
    const existing = categoriesOf(ctx.graph.store, owner(ctx).id);
    if (existing.some((c) => String(c.displayName).toLowerCase() === name.toLowerCase())) {
      throw new GraphHttpError(409, 'ErrorItemAlreadyExists', `A category named '${name}' already exists.`);
    }
    const created = ctx.graph.store.insert(col(ctx), { id: randomUUID(), displayName: name, color });
    return entityResponse(ctx, renderCategory(created), { status: 201 });
  });
  graphRoute(sandbox, 'PATCH', `${base}/:id`, { scopes: SETTINGS_WRITE }, async (ctx) => {
    const current = find(ctx);
    const body = await bodyOf(ctx);
    const patch: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(body)) {
      if (key.startsWith('@odata.')) continue;
      if (key === 'color') patch.color = enumValue(value, CATEGORY_COLORS, 'categoryColor');
      else if (key === 'displayName') {
        if (value !== current.displayName)
          throw invalid('The displayName of a category cannot be changed once created.');
      } else throw unknownProperty(key, 'outlookCategory');
    }
    const updated = ctx.graph.store.update(col(ctx), current.id, patch) as Entity;
    return entityResponse(ctx, renderCategory(updated), byIdContext(ctx));
  });
  graphRoute(sandbox, 'DELETE', `${base}/:id`, { scopes: SETTINGS_WRITE }, (ctx) => {
    ctx.graph.store.remove(col(ctx), find(ctx).id);
    return empty(204);
  });
}

// ---------------------------------------------------------------- rules

const PREDICATES: Record<string, 'strings' | 'recipients' | 'boolean' | 'importance' | 'other'> = {
  bodyContains: 'strings',
  bodyOrSubjectContains: 'strings',
  categories: 'strings',
  fromAddresses: 'recipients',
  hasAttachments: 'boolean',
  headerContains: 'strings',
  importance: 'importance',
  isApprovalRequest: 'boolean',
  isAutomaticForward: 'boolean',
  isAutomaticReply: 'boolean',
  isEncrypted: 'boolean',
  isMeetingRequest: 'boolean',
  isMeetingResponse: 'boolean',
  isNonDeliveryReport: 'boolean',
  isPermissionControlled: 'boolean',
  isReadReceipt: 'boolean',
  isSigned: 'boolean',
  isVoicemail: 'boolean',
  messageActionFlag: 'other',
  notSentToMe: 'boolean',
  recipientContains: 'strings',
  senderContains: 'strings',
  sensitivity: 'other',
  sentCcMe: 'boolean',
  sentOnlyToMe: 'boolean',
  sentToAddresses: 'recipients',
  sentToMe: 'boolean',
  sentToOrCcMe: 'boolean',
  subjectContains: 'strings',
  withinSizeRange: 'other',
};

const ACTIONS: Record<string, 'strings' | 'recipients' | 'boolean' | 'importance' | 'folder'> = {
  assignCategories: 'strings',
  copyToFolder: 'folder',
  delete: 'boolean',
  forwardAsAttachmentTo: 'recipients',
  forwardTo: 'recipients',
  markAsRead: 'boolean',
  markImportance: 'importance',
  moveToFolder: 'folder',
  permanentDelete: 'boolean',
  redirectTo: 'recipients',
  stopProcessingRules: 'boolean',
};

function recipients(value: unknown, field: string): Recipient[] {
  if (!Array.isArray(value)) throw requestBodyRead(`'${field}' must be a collection of recipient.`);
  return value.map((r) => {
    const address = (r as Recipient | undefined)?.emailAddress?.address;
    if (typeof address !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(address)) {
      throw invalid(`Each recipient in '${field}' needs an emailAddress with a valid address.`);
    }
    return { emailAddress: { name: String((r as Recipient).emailAddress.name ?? address), address } };
  });
}

function typedValues(
  ctx: GraphCtx,
  given: unknown,
  kinds: Record<string, string>,
  type: string,
): Record<string, unknown> {
  if (given === null || given === undefined) return {};
  if (typeof given !== 'object' || Array.isArray(given))
    throw requestBodyRead(`A value of type 'microsoft.graph.${type}' is expected.`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given as Record<string, unknown>)) {
    if (key.startsWith('@odata.')) continue;
    const kind = kinds[key];
    if (!kind) throw unknownProperty(key, type);
    if (value === null) continue;
    switch (kind) {
      case 'strings':
        if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
          throw requestBodyRead(`'${key}' must be a collection of strings.`);
        }
        out[key] = value;
        break;
      case 'recipients':
        out[key] = recipients(value, key);
        break;
      case 'boolean':
        if (typeof value !== 'boolean') throw requestBodyRead(`'${key}' must be true or false.`);
        out[key] = value;
        break;
      case 'importance':
        out[key] = enumValue(value, ['low', 'normal', 'high'], 'importance');
        break;
      case 'folder':
        // The folder must exist in the mailbox (an id or a well-known name), kept as its id.
        if (typeof value !== 'string') throw requestBodyRead(`'${key}' must be a folder id.`);
        try {
          out[key] = resolveFolder(ctx, value).id;
        } catch {
          throw invalid(`The folder '${value}' given in '${key}' does not exist in this mailbox.`);
        }
        break;
      default:
        out[key] = value;
    }
  }
  return out;
}

function renderRule(r: Entity): Record<string, unknown> {
  const { id, displayName, sequence, isEnabled, hasError, isReadOnly, conditions, actions, exceptions } = r;
  return {
    id,
    displayName,
    sequence,
    isEnabled,
    hasError,
    isReadOnly,
    ...(conditions && Object.keys(conditions).length ? { conditions } : {}),
    actions,
    ...(exceptions && Object.keys(exceptions).length ? { exceptions } : {}),
  };
}

function ruleFields(
  ctx: GraphCtx,
  body: Record<string, unknown>,
  creating: boolean,
): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('@odata.') || key === 'id') continue;
    switch (key) {
      case 'displayName':
        if (typeof value !== 'string' || !value.trim())
          throw invalid('The displayName of a rule is required.');
        if (value.length > 256) throw invalid('The displayName of a rule is at most 256 characters.');
        fields.displayName = value;
        break;
      case 'sequence':
        if (!Number.isInteger(value) || (value as number) < 1)
          throw invalid('sequence must be a positive integer.');
        fields.sequence = value;
        break;
      case 'isEnabled':
        if (typeof value !== 'boolean') throw requestBodyRead("'isEnabled' must be true or false.");
        fields.isEnabled = value;
        break;
      case 'conditions':
      case 'exceptions':
        fields[key] = typedValues(ctx, value, PREDICATES, 'messageRulePredicates');
        break;
      case 'actions':
        fields.actions = typedValues(ctx, value, ACTIONS, 'messageRuleActions');
        break;
      case 'hasError':
      case 'isReadOnly':
        throw invalid(`The property '${key}' is read-only.`);
      default:
        throw unknownProperty(key, 'messageRule');
    }
  }
  if (creating) {
    if (fields.displayName === undefined) throw invalid('The displayName of a rule is required.');
    if (fields.sequence === undefined) throw invalid('The sequence of a rule is required.');
  }
  const actions = fields.actions as Record<string, unknown> | undefined;
  if (
    (creating || actions) &&
    (!actions || Object.keys(actions).filter((k) => k !== 'stopProcessingRules').length === 0)
  ) {
    throw invalid('A rule needs at least one action (e.g. moveToFolder, markAsRead, assignCategories).');
  }
  return fields;
}

function installRules(sandbox: Sandbox): void {
  const base = '/me/mailFolders/inbox/messageRules';
  const col = (ctx: GraphCtx) => ctx.graph.store.collection(owner(ctx).id, RULES);
  const find = (ctx: GraphCtx) => {
    const r = ctx.graph.store.get(col(ctx), ctx.params.id!);
    if (!r) throw notFound('outlook');
    return r;
  };

  graphRoute(sandbox, 'GET', base, { scopes: SETTINGS_READ }, (ctx) =>
    collection(ctx, sortedRules(ctx.graph.store, owner(ctx).id).map(renderRule), {
      kind: 'outlook',
      defaultTop: 1000,
    }),
  );
  graphRoute(sandbox, 'GET', `${base}/:id`, { scopes: SETTINGS_READ }, (ctx) =>
    entityResponse(ctx, renderRule(find(ctx)), byIdContext(ctx)),
  );
  graphRoute(sandbox, 'POST', base, { scopes: SETTINGS_WRITE }, async (ctx) => {
    ensureMailbox(sandbox, owner(ctx).id);
    const fields = ruleFields(ctx, await bodyOf(ctx), true);
    const created = ctx.graph.store.insert(col(ctx), {
      id: `AQAAA${randomUUID().replace(/-/g, '').slice(0, 12)}=`,
      isEnabled: true,
      hasError: false,
      isReadOnly: false,
      conditions: {},
      exceptions: {},
      ...fields,
    });
    return entityResponse(ctx, renderRule(created), { status: 201 });
  });
  graphRoute(sandbox, 'PATCH', `${base}/:id`, { scopes: SETTINGS_WRITE }, async (ctx) => {
    const current = find(ctx);
    const fields = ruleFields(ctx, await bodyOf(ctx), false);
    const updated = ctx.graph.store.update(col(ctx), current.id, fields) as Entity;
    return entityResponse(ctx, renderRule(updated), byIdContext(ctx));
  });
  graphRoute(sandbox, 'DELETE', `${base}/:id`, { scopes: SETTINGS_WRITE }, (ctx) => {
    ctx.graph.store.remove(col(ctx), find(ctx).id);
    return empty(204);
  });
}

function sortedRules(store: ChangeStore, userId: string): Entity[] {
  return store.list(store.collection(userId, RULES)).sort((a, b) => Number(a.sequence) - Number(b.sequence));
}

/** What delivery does with a message after the recipient's rules and overrides ran. */
export interface DeliveryPlan {
  /** The folder the message lands in; undefined when a rule deleted it permanently. */
  folderId: string | undefined;
  patch: Record<string, unknown>;
  copyTo: string[];
  forwardTo: Recipient[];
  redirectTo: Recipient[];
  /** Names of the rules that applied, in order (the sandbox's request log shows them). */
  applied: string[];
}

export interface ArrivingMessage {
  subject: string;
  body: string;
  from: string;
  fromName: string;
  to: string[];
  cc: string[];
  importance: string;
  hasAttachments: boolean;
  headers: Array<{ name: string; value: string }>;
  autoSubmitted: boolean;
}

function contains(haystack: string, needles: unknown): boolean {
  const text = haystack.toLowerCase();
  return (needles as string[]).some((n) => text.includes(n.toLowerCase()));
}

function holds(predicates: Record<string, unknown>, m: ArrivingMessage, me: string): boolean {
  const lower = (a: string) => a.toLowerCase();
  const toMe = m.to.map(lower).includes(lower(me));
  const ccMe = m.cc.map(lower).includes(lower(me));
  const addresses = (v: unknown) => (v as Recipient[]).map((r) => lower(r.emailAddress.address));
  for (const [key, value] of Object.entries(predicates)) {
    const ok = (() => {
      switch (key) {
        case 'subjectContains':
          return contains(m.subject, value);
        case 'bodyContains':
          return contains(m.body, value);
        case 'bodyOrSubjectContains':
          return contains(`${m.subject}\n${m.body}`, value);
        case 'senderContains':
          return contains(`${m.fromName} ${m.from}`, value);
        case 'recipientContains':
          return contains([...m.to, ...m.cc].join(' '), value);
        case 'headerContains':
          return contains(m.headers.map((h) => `${h.name}: ${h.value}`).join('\n'), value);
        case 'fromAddresses':
          return addresses(value).includes(lower(m.from));
        case 'sentToAddresses':
          return addresses(value).some((a) => [...m.to, ...m.cc].map(lower).includes(a));
        case 'importance':
          return m.importance === value;
        case 'hasAttachments':
          return m.hasAttachments === value;
        case 'sentToMe':
          return toMe === value;
        case 'sentCcMe':
          return ccMe === value;
        case 'sentToOrCcMe':
          return (toMe || ccMe) === value;
        case 'notSentToMe':
          return !toMe === value;
        case 'sentOnlyToMe':
          return (toMe && m.to.length === 1 && m.cc.length === 0) === value;
        case 'isAutomaticReply':
          return m.autoSubmitted === value;
        default:
          // Kinds of mail the sandbox never delivers (signed, encrypted, voicemail, meeting
          // requests...): a predicate asking for them is false, one asking for their absence true.
          return value === false;
      }
    })();
    if (!ok) return false;
  }
  return true;
}

/** Runs the recipient's enabled rules (in sequence order) and Focused Inbox overrides. */
export function planDelivery(
  store: ChangeStore,
  recipient: SandboxUser,
  inbox: string,
  deletedItems: string,
  m: ArrivingMessage,
): DeliveryPlan {
  const plan: DeliveryPlan = {
    folderId: inbox,
    patch: {},
    copyTo: [],
    forwardTo: [],
    redirectTo: [],
    applied: [],
  };
  const override = store
    .list(store.collection(recipient.id, OVERRIDES))
    .find(
      (o) =>
        String((o.senderEmailAddress as { address?: string }).address).toLowerCase() === m.from.toLowerCase(),
    );
  if (override) plan.patch.inferenceClassification = override.classifyAs;
  for (const rule of sortedRules(store, recipient.id)) {
    if (rule.isEnabled !== true) continue;
    const conditions = (rule.conditions ?? {}) as Record<string, unknown>;
    const exceptions = (rule.exceptions ?? {}) as Record<string, unknown>;
    if (!holds(conditions, m, recipient.mail)) continue;
    if (Object.keys(exceptions).length && holds(exceptions, m, recipient.mail)) continue;
    plan.applied.push(String(rule.displayName));
    const a = (rule.actions ?? {}) as Record<string, unknown>;
    if (a.markAsRead === true) plan.patch.isRead = true;
    if (typeof a.markImportance === 'string') plan.patch.importance = a.markImportance;
    if (Array.isArray(a.assignCategories)) {
      const now = (plan.patch.categories as string[] | undefined) ?? [];
      plan.patch.categories = [...new Set([...now, ...(a.assignCategories as string[])])];
    }
    if (typeof a.copyToFolder === 'string') plan.copyTo.push(a.copyToFolder);
    if (Array.isArray(a.forwardTo)) plan.forwardTo.push(...(a.forwardTo as Recipient[]));
    if (Array.isArray(a.forwardAsAttachmentTo))
      plan.forwardTo.push(...(a.forwardAsAttachmentTo as Recipient[]));
    if (Array.isArray(a.redirectTo)) plan.redirectTo.push(...(a.redirectTo as Recipient[]));
    if (typeof a.moveToFolder === 'string') plan.folderId = a.moveToFolder;
    if (a.delete === true) plan.folderId = deletedItems;
    if (a.permanentDelete === true) plan.folderId = undefined;
    if (a.stopProcessingRules === true) break;
  }
  return plan;
}

// ---------------------------------------------------------------- Focused Inbox overrides

function installOverrides(sandbox: Sandbox): void {
  const base = '/me/inferenceClassification/overrides';
  const col = (ctx: GraphCtx) => ctx.graph.store.collection(owner(ctx).id, OVERRIDES);
  const find = (ctx: GraphCtx) => {
    const o = ctx.graph.store.get(col(ctx), ctx.params.id!);
    if (!o) throw notFound('outlook');
    return o;
  };
  const classifyAs = (v: unknown) => enumValue(v, ['focused', 'other'], 'inferenceClassificationType');

  graphRoute(sandbox, 'GET', base, { scopes: MAIL_READ }, (ctx) =>
    collection(ctx, ctx.graph.store.list(col(ctx)).map(visible), {
      kind: 'outlook',
      defaultTop: 1000,
    }),
  );
  graphRoute(sandbox, 'POST', base, { scopes: MAIL_WRITE }, async (ctx) => {
    const body = await bodyOf(ctx);
    for (const key of Object.keys(body)) {
      if (!['classifyAs', 'senderEmailAddress'].includes(key) && !key.startsWith('@odata.')) {
        throw unknownProperty(key, 'inferenceClassificationOverride');
      }
    }
    const sender = body.senderEmailAddress as { name?: unknown; address?: unknown } | undefined;
    if (typeof sender?.address !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(sender.address)) {
      throw invalid('senderEmailAddress needs a valid address.');
    }
    const address = sender.address;
    const fields = {
      classifyAs: classifyAs(body.classifyAs),
      senderEmailAddress: {
        name: typeof sender.name === 'string' ? sender.name : address,
        address,
      },
    };
    const same = ctx.graph.store
      .list(col(ctx))
      .find(
        (o) =>
          String((o.senderEmailAddress as { address: string }).address).toLowerCase() ===
          address.toLowerCase(),
      );
    const saved = same
      ? (ctx.graph.store.update(col(ctx), same.id, fields) as Entity)
      : ctx.graph.store.insert(col(ctx), { id: randomUUID(), ...fields });
    return entityResponse(ctx, visible(saved), { status: 201 });
  });
  graphRoute(sandbox, 'PATCH', `${base}/:id`, { scopes: MAIL_WRITE }, async (ctx) => {
    const current = find(ctx);
    const body = await bodyOf(ctx);
    for (const key of Object.keys(body)) {
      if (key !== 'classifyAs' && !key.startsWith('@odata.'))
        throw invalid(`Only classifyAs can be changed on an override (not '${key}').`);
    }
    const updated = ctx.graph.store.update(col(ctx), current.id, {
      classifyAs: classifyAs(body.classifyAs),
    }) as Entity;
    return entityResponse(ctx, visible(updated), byIdContext(ctx));
  });
  graphRoute(sandbox, 'DELETE', `${base}/:id`, { scopes: MAIL_WRITE }, (ctx) => {
    ctx.graph.store.remove(col(ctx), find(ctx).id);
    return empty(204);
  });
}

export function installMailboxManagement(sandbox: Sandbox): void {
  installCategories(sandbox);
  installRules(sandbox);
  installOverrides(sandbox);
}

/** Outlook's default master list for a new mailbox (the six colour categories). */
const DEFAULT_CATEGORIES: Array<[string, string]> = [
  ['Red category', 'preset0'],
  ['Orange category', 'preset1'],
  ['Yellow category', 'preset3'],
  ['Green category', 'preset4'],
  ['Blue category', 'preset7'],
  ['Purple category', 'preset8'],
];

export function seedMailbox(sandbox: Sandbox): void {
  const store = graphState(sandbox).store;
  for (const user of sandbox.directory.users.values()) {
    const col = store.collection(user.id, CATEGORIES);
    if (store.list(col).length > 0) continue;
    for (const [displayName, color] of DEFAULT_CATEGORIES) {
      store.insert(col, { id: stableCategoryId(user.id, displayName), displayName, color });
    }
  }
}

function stableCategoryId(userId: string, name: string): string {
  const h = createHash('sha256').update(`${userId}/category/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
