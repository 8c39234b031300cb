/**
 * The mailbox's own settings and management, apart from messages (./mail): mailbox settings with
 * automatic replies (settings.ts), MailTips, master categories, Inbox rules and Focused Inbox
 * overrides (rules.ts). What they do to arriving mail runs in mail/send.ts's delivery.
 *
 * Control: `PUT /_sandbox/mailbox/{upn}/full {full: boolean}` marks a mailbox full (MailTips
 * `mailboxFull`).
 */
import type { Sandbox } from '../../context';
import { json } from '../../http';
import type { SandboxUser } from '../../state';
import { contextPath, entityResponse, graphRoute, odataContext, type GraphCtx } from '../core';
import { GraphHttpError, notFound } from '../errors';
import { limitedJson, mailState } from '../mail/model';
import { installMailboxManagement } from './rules';

export { seedMailbox } from './rules';
import {
  mailboxSettings,
  mailboxSettingsState,
  mailTipsFor,
  parseMailTipsOptions,
  updateMailboxSettings,
} from './settings';

const SETTINGS = {
  scopes: {
    anyOf: ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'],
    other: ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'],
  },
};
const SETTINGS_WRITE = {
  scopes: { anyOf: ['MailboxSettings.ReadWrite'], other: ['MailboxSettings.ReadWrite'] },
};

function owner(ctx: GraphCtx): SandboxUser {
  if (!ctx.user) throw notFound('outlook');
  return ctx.user;
}

export function installMailbox(sandbox: Sandbox): void {
  // https://learn.microsoft.com/graph/api/user-get-mailboxsettings
  graphRoute(sandbox, 'GET', '/me/mailboxSettings', SETTINGS, (ctx) =>
    entityResponse(ctx, mailboxSettings(sandbox, owner(ctx)), { context: contextPath(ctx) }),
  );
  // https://learn.microsoft.com/graph/api/user-update-mailboxsettings: 200 with what was set.
  graphRoute(sandbox, 'PATCH', '/me/mailboxSettings', SETTINGS_WRITE, async (ctx) => {
    const body = await limitedJson<unknown>(ctx);
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new GraphHttpError(400, 'RequestBodyRead', 'A mailboxSettings object is expected.');
    }
    const updated = updateMailboxSettings(sandbox, owner(ctx), body as Record<string, unknown>);
    return entityResponse(ctx, updated, { context: contextPath(ctx) });
  });
  // https://learn.microsoft.com/graph/api/user-getmailtips: any user's tips, for the caller.
  graphRoute(sandbox, 'POST', '/me/getMailTips', { scopes: { anyOf: ['Mail.Read'] } }, async (ctx) => {
    // Parameter names arrive as the routes read them, whatever their casing (request-forms.ts).
    const body = await limitedJson<{ emailAddresses?: unknown; mailTipsOptions?: unknown }>(ctx);
    const addresses = body.emailAddresses;
    if (!Array.isArray(addresses) || addresses.length === 0 || addresses.some((a) => typeof a !== 'string')) {
      throw new GraphHttpError(
        400,
        'RequestBodyRead',
        "The parameter 'EmailAddresses' must be a non-empty collection of strings.",
      );
    }
    // Exchange answers MailTips for at most 100 recipients in one request.
    if (addresses.length > 100) {
      throw new GraphHttpError(
        400,
        'ErrorInvalidRequest',
        'MailTips can be requested for at most 100 recipients at a time.',
      );
    }
    const options = parseMailTipsOptions(body.mailTipsOptions);
    const max = mailState(sandbox).maxMessageSizeBytes;
    const value = (addresses as string[]).map((a) => mailTipsFor(sandbox, owner(ctx), a, options, max));
    return json(200, { '@odata.context': odataContext(ctx, 'Collection(microsoft.graph.mailTips)'), value });
  });
  installMailboxManagement(sandbox);

  sandbox.control.on('PUT', '/mailbox/:upn/full', async (ctx) => {
    const user = sandbox.directory.findUser(decodeURIComponent(ctx.params.upn!));
    if (!user) return json(404, { error: 'no such user' });
    const body = await ctx.json<{ full?: unknown }>();
    if (typeof body.full !== 'boolean') return json(400, { error: 'full (true or false) is required' });
    const state = mailboxSettingsState(sandbox);
    state.full = state.full.filter((id) => id !== user.id);
    if (body.full) state.full.push(user.id);
    return json(200, { full: body.full });
  });
}
