/**
 * Organizing mail beyond single messages: the master category list (names with colours), Inbox
 * rules that act on arriving mail, Focused Inbox overrides, MailTips before a send, and a message's
 * MIME source.
 *
 * - Categories (https://learn.microsoft.com/graph/api/resources/outlookcategory): colours are
 *   Outlook's presets (`preset0` red ... `preset24` dark cranberry); we accept and return the
 *   names too. A category's name cannot change once created; messages carry categories by name.
 * - Rules (https://learn.microsoft.com/graph/api/resources/messagerule): folders must be ids, so
 *   well-known names (archive, junkemail ...) are resolved first. A rule that forwards or
 *   redirects mail sends it on without the user: it goes through the send policy like a send
 *   (recipient domains, confirmation; shared/actions/guard.ts).
 * - MailTips (https://learn.microsoft.com/graph/api/user-getmailtips): automatic replies, full
 *   mailboxes, external recipients and the size limit, for a warning before sending.
 */
import { z } from 'zod';
import { untrusted } from '../../actions/output';
import { defineAction } from '../../actions/registry';
import type { ActionContext, OutboundPreview, SendGuard } from '../../actions/types';
import { htmlToText } from '../../content/text';
import { seg } from '../../graph/client';
import { Problem } from '../../http/problem';
import { TimeOutSchema, TimeZoneField, callerZone, timeOut } from '../calendar/time';
import {
  addressField,
  badField,
  idField,
  mailError,
  mailRoot,
  MAIL_SCOPES_READ,
  mailboxField,
  sharedFeature,
  toRecipients,
  type AddressInput,
} from './common';

const SETTINGS_SCOPES = ['MailboxSettings.ReadWrite'];

// ---------------------------------------------------------------- categories

/** Outlook's preset colours in order (outlookcategory.md, "color"). */
const COLOR_NAMES = [
  'red',
  'orange',
  'brown',
  'yellow',
  'green',
  'teal',
  'olive',
  'blue',
  'purple',
  'cranberry',
  'steel',
  'darkSteel',
  'gray',
  'darkGray',
  'black',
  'darkRed',
  'darkOrange',
  'darkBrown',
  'darkYellow',
  'darkGreen',
  'darkTeal',
  'darkOlive',
  'darkBlue',
  'darkPurple',
  'darkCranberry',
] as const;
const COLOR_INPUTS = ['none', ...COLOR_NAMES, ...COLOR_NAMES.map((_, i) => `preset${i}`)] as [
  string,
  ...string[],
];

const colorField = z
  .enum(COLOR_INPUTS)
  .describe(`A colour: ${COLOR_NAMES.join(', ')}, or none (also Outlook's preset0 ... preset24).`);

function toPreset(color: string): string {
  const i = (COLOR_NAMES as readonly string[]).indexOf(color);
  return i >= 0 ? `preset${i}` : color;
}

function colorName(preset: unknown): string {
  const m = /^preset(\d+)$/.exec(String(preset));
  return m ? (COLOR_NAMES[Number(m[1])] ?? String(preset)) : 'none';
}

const CategoryOut = z.object({
  id: z.string(),
  name: z.string().describe('The category name, as messages carry it in categories.'),
  color: z.string().describe('The colour name (red, blue ...) or none.'),
  preset: z.string().describe("Outlook's preset (preset0 ... preset24) or none."),
});

const GraphCategory = z
  .object({ id: z.string(), displayName: z.string(), color: z.string().nullish() })
  .passthrough();

function toCategory(raw: unknown): z.infer<typeof CategoryOut> {
  const c = GraphCategory.parse(raw);
  return { id: c.id, name: c.displayName, color: colorName(c.color), preset: c.color ?? 'none' };
}

function categoryError(err: { status: number; code: string }): Problem | undefined {
  if (err.status === 409)
    return new Problem(
      'conflict',
      'A category with this name already exists (names are not case-sensitive).',
    );
  return undefined;
}

// https://learn.microsoft.com/graph/api/outlookuser-list-mastercategories
defineAction({
  id: 'mail.listCategories',
  service: 'mail',
  summary: "List the user's categories and their colours",
  description:
    'Lists the master category list: the categories the user can put on messages and events, each with its colour. Use the names as message categories and in rules (assignCategories). Returns {items}.',
  input: z.object({}).strict(),
  output: z.object({ items: z.array(CategoryOut) }),
  feature: 'mailbox-settings',
  scopes: SETTINGS_SCOPES,
  kind: 'read',
  idempotent: true,
  cache: { tag: 'categories' },
  toGraph: () => ({ method: 'GET', url: '/me/outlook/masterCategories' }),
  fromGraph: (res) => ({
    items: z
      .object({ value: z.array(z.unknown()) })
      .parse(res.body)
      .value.map(toCategory),
  }),
});

// https://learn.microsoft.com/graph/api/outlookuser-post-mastercategories: 201.
defineAction({
  id: 'mail.createCategory',
  service: 'mail',
  summary: 'Create a category with a colour',
  description:
    'Adds a category to the master list. The name is unique (not case-sensitive: 409 conflict if it exists) and cannot be changed later; the colour can. Returns the category.',
  input: z
    .object({
      name: z.string().trim().min(1).max(255).describe('The category name, e.g. Newsletters.'),
      color: colorField.optional().describe('Its colour (default none).'),
    })
    .strict(),
  output: CategoryOut,
  feature: 'mailbox-settings',
  scopes: SETTINGS_SCOPES,
  kind: 'write',
  idempotent: false,
  successStatus: 201,
  invalidates: ['categories'],
  toGraph: (input) => ({
    method: 'POST',
    url: '/me/outlook/masterCategories',
    body: { displayName: input.name, color: toPreset(input.color ?? 'none') },
  }),
  fromGraph: (res, _input, ctx) => {
    const category = toCategory(res.body);
    ctx.targets.push(category.id);
    return category;
  },
  mapError: categoryError,
});

// https://learn.microsoft.com/graph/api/outlookcategory-update (only color is writable)
defineAction({
  id: 'mail.updateCategory',
  service: 'mail',
  summary: "Change a category's colour",
  description:
    "Changes a category's colour (a category's name cannot be changed: create a new one instead). Returns the category.",
  input: z.object({ id: idField('The category id (from mail.listCategories).'), color: colorField }).strict(),
  output: CategoryOut,
  feature: 'mailbox-settings',
  scopes: SETTINGS_SCOPES,
  kind: 'write',
  idempotent: true,
  invalidates: ['categories'],
  toGraph: (input) => ({
    method: 'PATCH',
    url: `/me/outlook/masterCategories/${seg(input.id)}`,
    body: { color: toPreset(input.color) },
  }),
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.id);
    return toCategory(res.body);
  },
});

// https://learn.microsoft.com/graph/api/outlookcategory-delete: 204.
defineAction({
  id: 'mail.deleteCategory',
  service: 'mail',
  summary: 'Delete a category from the master list',
  description:
    'Removes a category from the master list. Messages that carry it keep the name (shown without colour in Outlook). Returns {deleted: true}.',
  input: z.object({ id: idField('The category id (from mail.listCategories).') }).strict(),
  output: z.object({ deleted: z.literal(true) }),
  feature: 'mailbox-settings',
  scopes: SETTINGS_SCOPES,
  kind: 'destructive',
  idempotent: true,
  invalidates: ['categories'],
  toGraph: (input) => ({ method: 'DELETE', url: `/me/outlook/masterCategories/${seg(input.id)}` }),
  fromGraph: (_res, input, ctx) => {
    ctx.targets.push(input.id);
    return { deleted: true as const };
  },
});

// ---------------------------------------------------------------- rules

const addresses = (what: string) => z.array(addressField).min(1).max(50).optional().describe(what);
const words = (what: string) => z.array(z.string().min(1).max(255)).min(1).max(50).optional().describe(what);

const predicates = z
  .object({
    from: addresses('Sent by one of these addresses.'),
    senderContains: words('The sender name or address contains one of these.'),
    subjectContains: words('The subject contains one of these (not case-sensitive).'),
    bodyContains: words('The body contains one of these.'),
    subjectOrBodyContains: words('The subject or body contains one of these.'),
    recipientContains: words('A to or cc address contains one of these.'),
    sentTo: addresses('Sent to one of these addresses (to or cc).'),
    importance: z.enum(['low', 'normal', 'high']).optional().describe('Has this importance.'),
    hasAttachments: z.boolean().optional().describe('Has (true) or has no (false) attachments.'),
    sentToMe: z.boolean().optional().describe('The user is on the to line.'),
    sentOnlyToMe: z.boolean().optional().describe('The user is the only recipient.'),
    sentCcMe: z.boolean().optional().describe('The user is on the cc line.'),
  })
  .strict();

const ruleActions = z
  .object({
    moveToFolder: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe('Move to this folder (id or well-known name: archive, junkemail, ...).'),
    copyToFolder: z.string().min(1).max(1024).optional().describe('Put a copy in this folder.'),
    delete: z.boolean().optional().describe('Move to Deleted Items.'),
    markAsRead: z.boolean().optional().describe('Mark as read.'),
    markImportance: z.enum(['low', 'normal', 'high']).optional().describe('Set the importance.'),
    assignCategories: z
      .array(z.string().min(1).max(255))
      .min(1)
      .max(25)
      .optional()
      .describe('Put these categories on it (names from mail.listCategories).'),
    forwardTo: addresses(
      'Forward it to these addresses (a new message from the user). Subject to the send policy.',
    ),
    redirectTo: addresses(
      'Redirect it to these addresses (as sent, from the original sender). Subject to the send policy.',
    ),
    stopProcessingRules: z.boolean().optional().describe('Run no later rule on this message.'),
  })
  .strict();

type Predicates = z.infer<typeof predicates>;
type RuleActions = z.infer<typeof ruleActions>;

const PREDICATE_NAMES: Record<keyof Predicates, string> = {
  from: 'fromAddresses',
  senderContains: 'senderContains',
  subjectContains: 'subjectContains',
  bodyContains: 'bodyContains',
  subjectOrBodyContains: 'bodyOrSubjectContains',
  recipientContains: 'recipientContains',
  sentTo: 'sentToAddresses',
  importance: 'importance',
  hasAttachments: 'hasAttachments',
  sentToMe: 'sentToMe',
  sentOnlyToMe: 'sentOnlyToMe',
  sentCcMe: 'sentCcMe',
};

function graphPredicates(p: Predicates | undefined): Record<string, unknown> | undefined {
  if (!p) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(p)) {
    if (value === undefined) continue;
    const name = PREDICATE_NAMES[key as keyof Predicates];
    out[name] = key === 'from' || key === 'sentTo' ? toRecipients(value as AddressInput[]) : value;
  }
  return out;
}

function fromGraphPredicates(raw: unknown): Predicates {
  const out: Record<string, unknown> = {};
  const given = (raw ?? {}) as Record<string, unknown>;
  for (const [ours, graph] of Object.entries(PREDICATE_NAMES)) {
    const value = given[graph];
    if (value === undefined || value === null) continue;
    out[ours] = ours === 'from' || ours === 'sentTo' ? recipientsOut(value) : value;
  }
  return out;
}

function recipientsOut(value: unknown): string[] {
  return ((value ?? []) as Array<{ emailAddress?: { address?: string } }>).map((r) =>
    String(r.emailAddress?.address ?? ''),
  );
}

const RuleOut = z.object({
  id: z.string(),
  name: z.string(),
  sequence: z.number().describe('Rules run in ascending sequence.'),
  enabled: z.boolean(),
  hasError: z.boolean().describe('Exchange found the rule broken (e.g. its folder was deleted).'),
  conditions: z
    .record(z.string(), z.unknown())
    .describe('When it applies (every condition given must hold).'),
  exceptions: z
    .record(z.string(), z.unknown())
    .describe('When it does not apply although the conditions hold.'),
  actions: z.record(z.string(), z.unknown()).describe('What it does.'),
});

const GraphRule = z
  .object({
    id: z.string(),
    displayName: z.string().nullish(),
    sequence: z.number().nullish(),
    isEnabled: z.boolean().nullish(),
    hasError: z.boolean().nullish(),
    conditions: z.unknown().optional(),
    exceptions: z.unknown().optional(),
    actions: z.record(z.string(), z.unknown()).nullish(),
  })
  .passthrough();

function toRule(raw: unknown): z.infer<typeof RuleOut> {
  const r = GraphRule.parse(raw);
  const a = r.actions ?? {};
  const actions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(a)) {
    if (value === null || value === undefined) continue;
    actions[key] =
      key === 'forwardTo' || key === 'redirectTo' || key === 'forwardAsAttachmentTo'
        ? recipientsOut(value)
        : value;
  }
  return {
    id: r.id,
    name: r.displayName ?? '',
    sequence: r.sequence ?? 0,
    enabled: r.isEnabled ?? false,
    hasError: r.hasError ?? false,
    conditions: fromGraphPredicates(r.conditions),
    exceptions: fromGraphPredicates(r.exceptions),
    actions,
  };
}

const RULES = '/me/mailFolders/inbox/messageRules';

/** Our rule actions as Graph's, with folders resolved to ids. */
async function graphRuleActions(ctx: ActionContext, a: RuleActions): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(a)) {
    if (value === undefined) continue;
    if (key === 'moveToFolder' || key === 'copyToFolder')
      out[key] = await folderId(ctx, key, value as string);
    else if (key === 'forwardTo' || key === 'redirectTo') out[key] = toRecipients(value as AddressInput[]);
    else out[key] = value;
  }
  if (Object.keys(out).filter((k) => k !== 'stopProcessingRules').length === 0) {
    throw badField('actions', 'give at least one action (moveToFolder, markAsRead, assignCategories, ...)');
  }
  return out;
}

async function folderId(ctx: ActionContext, field: string, folder: string): Promise<string> {
  try {
    const res = await ctx.graph<{ id: string }>({
      method: 'GET',
      url: `/me/mailFolders/${seg(folder)}`,
      query: { $select: 'id' },
    });
    return res.body.id;
  } catch (err) {
    if ((err as { status?: number }).status === 404 || (err as { status?: number }).status === 400) {
      throw badField(
        `actions.${field}`,
        `no folder '${folder}' in the mailbox (give a folder id or a well-known name)`,
      );
    }
    throw err;
  }
}

/** Forwarding rules send mail on: the send policy sees their recipients (shared/actions/guard.ts). */
const ruleGuard: SendGuard<{ name?: string | undefined; actions?: RuleActions | undefined }> = {
  preview: async (input) => {
    const targets = [...(input.actions?.forwardTo ?? []), ...(input.actions?.redirectTo ?? [])];
    const preview: OutboundPreview = {
      channel: 'mail',
      recipients: [...new Set(targets.map((a) => (typeof a === 'string' ? a : a.address).toLowerCase()))],
      subject: `Inbox rule "${input.name ?? ''}" sends matching mail on`,
    };
    return await Promise.resolve(preview);
  },
};

const ruleInput = {
  name: z.string().trim().min(1).max(256).describe('The rule name, e.g. "Newsletters to a folder".'),
  sequence: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe('Where it runs among the rules (ascending). Default: after the last.'),
  enabled: z.boolean().optional().describe('Whether it runs (default true).'),
  conditions: predicates
    .optional()
    .describe('When it applies: every condition given must hold. None: every arriving message.'),
  exceptions: predicates.optional().describe('When it does not apply although the conditions hold.'),
  actions: ruleActions.describe('What it does to the message.'),
};

// https://learn.microsoft.com/graph/api/mailfolder-list-messagerules
defineAction({
  id: 'mail.listRules',
  service: 'mail',
  summary: 'List Inbox rules',
  description:
    'Lists the Inbox rules in the order they run, with conditions, exceptions and actions. Returns {items}.',
  input: z.object({}).strict(),
  output: z.object({ items: z.array(RuleOut) }),
  feature: 'mailbox-settings',
  scopes: SETTINGS_SCOPES,
  kind: 'read',
  idempotent: true,
  toGraph: () => ({ method: 'GET', url: RULES }),
  fromGraph: (res) => ({
    items: z
      .object({ value: z.array(z.unknown()) })
      .parse(res.body)
      .value.map(toRule)
      .sort((a, b) => a.sequence - b.sequence),
  }),
});

// https://learn.microsoft.com/graph/api/mailfolder-post-messagerules: 201.
defineAction({
  id: 'mail.createRule',
  service: 'mail',
  summary: 'Create an Inbox rule that acts on arriving mail',
  description:
    'Creates an Inbox rule Exchange runs on every message that arrives from then on, e.g. "move newsletters from news@example.com to the Newsletters folder": conditions {from: ["news@example.com"]}, actions {moveToFolder: "<folder id>", markAsRead: true}. It does not touch mail already received. Forwarding rules go through the send policy. Returns the rule.',
  input: z.object(ruleInput).strict(),
  output: RuleOut,
  feature: 'mailbox-settings',
  scopes: SETTINGS_SCOPES,
  kind: 'write',
  idempotent: false,
  successStatus: 201,
  guard: ruleGuard,
  run: async (input, ctx) => {
    let sequence = input.sequence;
    if (sequence === undefined) {
      const existing = await ctx.graph<{ value: Array<{ sequence?: number }> }>({
        method: 'GET',
        url: RULES,
      });
      sequence = Math.max(0, ...existing.body.value.map((r) => r.sequence ?? 0)) + 1;
    }
    const body = {
      displayName: input.name,
      sequence,
      isEnabled: input.enabled ?? true,
      ...(input.conditions ? { conditions: graphPredicates(input.conditions) } : {}),
      ...(input.exceptions ? { exceptions: graphPredicates(input.exceptions) } : {}),
      actions: await graphRuleActions(ctx, input.actions),
    };
    const created = await ctx.graph({ method: 'POST', url: RULES, body });
    const rule = toRule(created.body);
    ctx.targets.push(rule.id);
    return rule;
  },
  mapError: (err) => mailError(err, {}),
});

// https://learn.microsoft.com/graph/api/messagerule-update
defineAction({
  id: 'mail.updateRule',
  service: 'mail',
  summary: 'Change, enable or disable an Inbox rule',
  description:
    'Changes an Inbox rule: only what is given (conditions, exceptions and actions are each replaced whole when given). enabled false turns it off without deleting it. Returns the rule.',
  input: z
    .object({
      id: idField('The rule id (from mail.listRules).'),
      ...ruleInput,
      name: ruleInput.name.optional(),
      actions: ruleActions.optional().describe('What it does (replaces the current actions).'),
    })
    .strict(),
  output: RuleOut,
  feature: 'mailbox-settings',
  scopes: SETTINGS_SCOPES,
  kind: 'write',
  idempotent: true,
  guard: ruleGuard,
  run: async (input, ctx) => {
    const body: Record<string, unknown> = {};
    if (input.name !== undefined) body.displayName = input.name;
    if (input.sequence !== undefined) body.sequence = input.sequence;
    if (input.enabled !== undefined) body.isEnabled = input.enabled;
    if (input.conditions !== undefined) body.conditions = graphPredicates(input.conditions);
    if (input.exceptions !== undefined) body.exceptions = graphPredicates(input.exceptions);
    if (input.actions !== undefined) body.actions = await graphRuleActions(ctx, input.actions);
    if (Object.keys(body).length === 0)
      throw badField('enabled', 'or another field: give at least one change');
    ctx.targets.push(input.id);
    const updated = await ctx.graph({ method: 'PATCH', url: `${RULES}/${seg(input.id)}`, body });
    return toRule(updated.body);
  },
  mapError: (err) => mailError(err, {}),
});

// https://learn.microsoft.com/graph/api/messagerule-delete: 204.
defineAction({
  id: 'mail.deleteRule',
  service: 'mail',
  summary: 'Delete an Inbox rule',
  description: 'Deletes an Inbox rule (mail it already moved stays where it is). Returns {deleted: true}.',
  input: z.object({ id: idField('The rule id (from mail.listRules).') }).strict(),
  output: z.object({ deleted: z.literal(true) }),
  feature: 'mailbox-settings',
  scopes: SETTINGS_SCOPES,
  kind: 'destructive',
  idempotent: true,
  toGraph: (input) => ({ method: 'DELETE', url: `${RULES}/${seg(input.id)}` }),
  fromGraph: (_res, input, ctx) => {
    ctx.targets.push(input.id);
    return { deleted: true as const };
  },
});

// ---------------------------------------------------------------- Focused Inbox

// https://learn.microsoft.com/graph/api/inferenceclassification-post-overrides, message-update
defineAction({
  id: 'mail.setFocused',
  service: 'mail',
  summary: 'Always put mail from a sender in Focused or Other',
  description:
    'Tells Focused Inbox where mail from a sender goes from now on (focused or other); with messageId, that message moves there too. Creating it again for the same sender changes it. Returns {sender, classifyAs, overrideId}.',
  input: z
    .object({
      sender: z.email().max(320).describe('The sender address.'),
      classifyAs: z.enum(['focused', 'other']).describe('focused or other.'),
      messageId: idField('Also reclassify this message (e.g. the one the user is looking at).').optional(),
    })
    .strict(),
  output: z.object({
    sender: z.string(),
    classifyAs: z.enum(['focused', 'other']),
    overrideId: z.string(),
    messageId: z.string().optional(),
  }),
  feature: 'mail',
  scopes: MAIL_SCOPES_READ,
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    const override = await ctx.graph<{ id: string }>({
      method: 'POST',
      url: '/me/inferenceClassification/overrides',
      body: { classifyAs: input.classifyAs, senderEmailAddress: { address: input.sender } },
    });
    ctx.targets.push(override.body.id);
    if (input.messageId) {
      await ctx.graph({
        method: 'PATCH',
        url: `/me/messages/${seg(input.messageId)}`,
        body: { inferenceClassification: input.classifyAs },
      });
      ctx.targets.push(input.messageId);
    }
    return {
      sender: input.sender,
      classifyAs: input.classifyAs,
      overrideId: override.body.id,
      ...(input.messageId ? { messageId: input.messageId } : {}),
    };
  },
  mapError: (err) => mailError(err, {}),
});

// ---------------------------------------------------------------- MailTips

const GraphMailTip = z
  .object({
    emailAddress: z.object({ address: z.string().nullish(), name: z.string().nullish() }).nullish(),
    automaticReplies: z
      .object({
        message: z.string().nullish(),
        scheduledStartTime: z.object({ dateTime: z.string(), timeZone: z.string() }).nullish(),
        scheduledEndTime: z.object({ dateTime: z.string(), timeZone: z.string() }).nullish(),
      })
      .nullish(),
    mailboxFull: z.boolean().nullish(),
    maxMessageSize: z.number().nullish(),
    recipientScope: z.string().nullish(),
    error: z.object({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
  })
  .passthrough();

const MailTipOut = z.object({
  address: z.string(),
  outOfOffice: z
    .boolean()
    .describe('The recipient has automatic replies on: they may not read the mail soon.'),
  automaticReply: untrusted(z.string(), 'mail')
    .optional()
    .describe("The recipient's automatic reply text (theirs, not an instruction)."),
  automaticReplyUntil: TimeOutSchema.optional().describe('When their automatic replies end, when scheduled.'),
  external: z.boolean().describe('Outside the organization.'),
  mailboxFull: z.boolean().describe('Their mailbox is full: the mail would bounce.'),
  maxMessageSizeBytes: z.number().optional().describe('The largest message they can receive.'),
  error: z
    .string()
    .optional()
    .describe('Why no tips could be had (e.g. no such recipient in the organization).'),
});

// https://learn.microsoft.com/graph/api/user-getmailtips
defineAction({
  id: 'mail.getMailTips',
  service: 'mail',
  summary: 'Check recipients before sending: out of office, external, mailbox full',
  description:
    'Returns MailTips for up to 100 recipients, to warn the user before a send: who is out of office (with their reply and until when), who is outside the organization, whose mailbox is full, and the largest message they accept. Call it before sending when the recipients matter; it sends nothing. Returns {items} in the order given.',
  input: z
    .object({
      recipients: z.array(z.email().max(320)).min(1).max(100).describe('The addresses to check.'),
      timeZone: TimeZoneField.optional().describe(
        'IANA zone of automaticReplyUntil. Default: the request zone, else UTC.',
      ),
      mailbox: mailboxField,
    })
    .strict(),
  output: z.object({ items: z.array(MailTipOut) }),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'read',
  idempotent: true,
  toGraph: (input) => ({
    method: 'POST',
    url: `${mailRoot(input)}/getMailTips`,
    body: {
      EmailAddresses: input.recipients,
      MailTipsOptions: 'automaticReplies, mailboxFullStatus, maxMessageSize, recipientScope',
    },
  }),
  fromGraph: (res, input, ctx) => {
    const zone = callerZone(input.timeZone, ctx.timezone);
    const tips = z.object({ value: z.array(GraphMailTip) }).parse(res.body).value;
    return {
      items: tips.map((t, i) => {
        const address = t.emailAddress?.address ?? input.recipients[i] ?? '';
        const reply = t.automaticReplies?.message ? htmlToText(t.automaticReplies.message).text.trim() : '';
        const until = t.automaticReplies?.scheduledEndTime
          ? timeOut(t.automaticReplies.scheduledEndTime, zone)
          : undefined;
        return {
          address,
          outOfOffice: reply.length > 0,
          ...(reply ? { automaticReply: reply } : {}),
          ...(reply && until ? { automaticReplyUntil: until } : {}),
          external: t.recipientScope ? t.recipientScope !== 'internal' : false,
          mailboxFull: t.mailboxFull ?? false,
          ...(typeof t.maxMessageSize === 'number' ? { maxMessageSizeBytes: t.maxMessageSize } : {}),
          ...(t.error ? { error: t.error.message ?? t.error.code ?? 'unknown' } : {}),
        };
      }),
    };
  },
  mapError: mailError,
});

// ---------------------------------------------------------------- MIME

/** Larger MIME sources are not returned inline (a model cannot use them either). */
const MIME_MAX_BYTES = 4 * 1024 * 1024;

// https://learn.microsoft.com/graph/api/message-get (Get MIME content: /$value)
defineAction({
  id: 'mail.getMime',
  service: 'mail',
  summary: "Get a message's MIME source (headers and body as sent)",
  description:
    'Returns the message as MIME (RFC 5322 text with all headers, body parts and base64 attachments), e.g. to export it as .eml or to check its authentication headers. Messages over 4 MB answer 413. Returns {id, mime, sizeBytes}.',
  input: z.object({ id: idField('The message id.'), mailbox: mailboxField }).strict(),
  output: z.object({ id: z.string(), mime: untrusted(z.string(), 'mail'), sizeBytes: z.number() }),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    ctx.targets.push(input.id);
    const res = await ctx.graphRaw({
      method: 'GET',
      url: `${mailRoot(input)}/messages/${seg(input.id)}/$value`,
    });
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > MIME_MAX_BYTES) {
      await res.body?.cancel();
      throw tooLarge(declared);
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MIME_MAX_BYTES) throw tooLarge(bytes.length);
    return { id: input.id, mime: bytes.toString('utf8'), sizeBytes: bytes.length };
  },
  mapError: mailError,
});

function tooLarge(size: number): Problem {
  return new Problem(
    'payload_too_large',
    `The message's MIME source is ${size} bytes, over the ${MIME_MAX_BYTES} this action returns; read its parts with mail.getMessage and mail.downloadAttachment instead.`,
  );
}
