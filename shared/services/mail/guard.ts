/**
 * What the send policy (shared/actions/guard.ts) needs from mail: a preview of each kind of send
 * (new message, draft, reply, forward) and whether the sending mailbox has written to an address
 * before (a Sent Items search, https://learn.microsoft.com/graph/search-query-parameter).
 */
import { seg } from '../../graph/client';
import type { ActionContext, OutboundPreview, SendGuard } from '../../actions/types';
import { previewText } from '../../actions/guard';
import { mailRoot, type AddressInput } from './common';

type GraphRecipient = { emailAddress?: { address?: string } } | null | undefined;

const address = (a: AddressInput) => (typeof a === 'string' ? a : a.address).toLowerCase();
const graphAddress = (r: GraphRecipient) => r?.emailAddress?.address?.toLowerCase();

function excerpt(body: string | undefined, type: string | undefined): string | undefined {
  return body === undefined ? undefined : previewText(body, type);
}

const unique = (list: Array<string | undefined>) => [...new Set(list.filter((a): a is string => !!a))];

/** The address a mailbox input names, or the user's own. */
function sendingAddress(input: { mailbox?: string | undefined }, ctx: ActionContext): string {
  return (input.mailbox ?? ctx.connection.username).toLowerCase();
}

/** Of `addresses`, those the mailbox has sent mail to (one Sent Items search each). */
async function writtenTo(
  input: { mailbox?: string | undefined },
  ctx: ActionContext,
  addresses: string[],
): Promise<Set<string>> {
  const known = new Set<string>();
  for (const a of addresses) {
    // KQL `participants:` covers to, cc and bcc; in Sent Items the sender is always the mailbox.
    const found = await ctx.graph<{ value: unknown[] }>({
      method: 'GET',
      url: `${mailRoot(input)}/mailFolders/sentitems/messages`,
      query: { $search: `"participants:${a}"`, $select: 'id', $top: '1' },
    });
    if (found.body.value.length) known.add(a);
  }
  return known;
}

interface NewMessageInput {
  to?: AddressInput[] | undefined;
  cc?: AddressInput[] | undefined;
  bcc?: AddressInput[] | undefined;
  subject?: string | undefined;
  body?: string | undefined;
  bodyType?: 'text' | 'html' | undefined;
  from?: string | undefined;
  mailbox?: string | undefined;
  attachments?: Array<{ name: string }> | undefined;
}

export const newMessageGuard: SendGuard<NewMessageInput> = {
  preview: async (input) => {
    const preview: OutboundPreview = {
      channel: 'mail',
      recipients: unique([...(input.to ?? []), ...(input.cc ?? []), ...(input.bcc ?? [])].map(address)),
      subject: input.subject ?? '',
    };
    const text = excerpt(input.body, input.bodyType);
    if (text !== undefined) preview.text = text;
    if (input.from ?? input.mailbox) preview.from = (input.from ?? input.mailbox)!.toLowerCase();
    if (input.attachments?.length) preview.attachments = input.attachments.map((a) => a.name);
    return await Promise.resolve(preview);
  },
  writtenTo,
};

interface GraphMessage {
  subject?: string;
  body?: { contentType?: string; content?: string };
  from?: GraphRecipient;
  replyTo?: GraphRecipient[];
  toRecipients?: GraphRecipient[];
  ccRecipients?: GraphRecipient[];
  bccRecipients?: GraphRecipient[];
  hasAttachments?: boolean;
}

async function getMessage(ctx: ActionContext, input: { mailbox?: string | undefined }, id: string) {
  const res = await ctx.graph<GraphMessage>({
    method: 'GET',
    url: `${mailRoot(input)}/messages/${seg(id)}`,
    query: { $select: 'subject,body,from,replyTo,toRecipients,ccRecipients,bccRecipients,hasAttachments' },
  });
  return res.body;
}

export const draftGuard: SendGuard<{ id: string; mailbox?: string | undefined }> = {
  preview: async (input, ctx) => {
    const m = await getMessage(ctx, input, input.id);
    const preview: OutboundPreview = {
      channel: 'mail',
      recipients: unique(
        [...(m.toRecipients ?? []), ...(m.ccRecipients ?? []), ...(m.bccRecipients ?? [])].map(graphAddress),
      ),
      subject: m.subject ?? '',
    };
    const text = excerpt(m.body?.content, m.body?.contentType);
    if (text !== undefined) preview.text = text;
    if (input.mailbox) preview.from = input.mailbox.toLowerCase();
    return preview;
  },
  writtenTo,
};

interface ResponseInput {
  messageId: string;
  replyAll?: boolean | undefined;
  to?: AddressInput[] | undefined;
  cc?: AddressInput[] | undefined;
  comment?: string | undefined;
  body?: string | undefined;
  bodyType?: 'text' | 'html' | undefined;
  mailbox?: string | undefined;
}

function responsePreview(input: ResponseInput, original: GraphMessage, recipients: string[], prefix: string) {
  const subject = original.subject ?? '';
  const preview: OutboundPreview = {
    channel: 'mail',
    recipients,
    subject: subject.toUpperCase().startsWith(prefix) ? subject : `${prefix}${subject}`,
  };
  const text = excerpt(input.body ?? input.comment, input.body !== undefined ? input.bodyType : 'text');
  if (text !== undefined) preview.text = text;
  if (input.mailbox) preview.from = input.mailbox.toLowerCase();
  return preview;
}

/** Reply goes to reply-to (else the sender); reply-all adds the other recipients but the mailbox. */
export const replyGuard: SendGuard<ResponseInput> = {
  preview: async (input, ctx) => {
    const original = await getMessage(ctx, input, input.messageId);
    const self = sendingAddress(input, ctx);
    const replyTo = (original.replyTo ?? []).map(graphAddress);
    const to = replyTo.length ? replyTo : [graphAddress(original.from)];
    const others = input.replyAll
      ? [...(original.toRecipients ?? []), ...(original.ccRecipients ?? [])].map(graphAddress)
      : [];
    const recipients = unique([...to, ...others]).filter((a) => a !== self || to.includes(a));
    return responsePreview(input, original, recipients, 'RE: ');
  },
  writtenTo,
};

export const forwardGuard: SendGuard<ResponseInput> = {
  preview: async (input, ctx) => {
    const original = await getMessage(ctx, input, input.messageId);
    const recipients = unique([...(input.to ?? []), ...(input.cc ?? [])].map(address));
    const preview = responsePreview(input, original, recipients, 'FW: ');
    if (original.hasAttachments) preview.attachments = ["(the original message's attachments)"];
    return preview;
  },
  writtenTo,
};
