/**
 * Guarded sends (docs/assistants.md#guarded-sends). Every action that sends a message on the
 * user's behalf (mail and Teams) declares a `guard`: how to preview what would go out and, for
 * mail, whom the user has written to before. Before such an action runs, the send policy (the
 * operator's SEND_* settings plus the user's own policy, which can only tighten them) decides:
 *
 * - a recipient outside SEND_ALLOWED_DOMAINS (and not internal) → 403 `recipient_not_allowed`;
 * - a confirm trigger matches (`external`, `new`, `all`) → 409 `confirmation_required` with the
 *   preview and a single-use confirmation token bound to this exact request; the same request
 *   sent again with the token (HTTP `Confirmation-Token` header; MCP `confirm: true` plus
 *   `confirmationToken`) goes out;
 * - the undo window (SEND_UNDO_SECONDS or the user's) is handed to the action as
 *   `ctx.undoSeconds`, which delays the send and makes it cancellable.
 *
 * Nothing here reads or sends content elsewhere: the preview goes back to the caller who wrote it.
 */
import type { SendConfirmTrigger } from '../config';
import { htmlToText } from '../content/text';
import { Problem } from '../http/problem';
import { registerUserData } from '../privacy';
import { combinedSendPolicy, deleteUserSendPolicy, getUserSendPolicy } from '../storage/send-policies';
import { consumeConfirmation, issueConfirmation } from './confirmations';
import { fieldHashes, requestHash } from './idempotency';
import type { Action, ActionContext } from './types';

export type { OutboundPreview, SendGuard } from './types';

/** How the caller confirms: the token from the 409 and, over MCP, `confirm: true`. */
export interface Confirmation {
  token?: string;
  /** False over MCP unless the call said `confirm: true`; HTTP callers confirm with the token alone. */
  confirmed: boolean;
}

export interface EffectivePolicy {
  confirm: Set<SendConfirmTrigger>;
  allowedDomains: string[];
  internalDomains: Set<string>;
  undoSeconds: number;
}

const PREVIEW_CHARS = 500;

/** A message body as a preview shows it: text (HTML read as text), one line, at most 500 characters. */
export function previewText(body: string, contentType: string | undefined): string {
  const text = contentType?.toLowerCase() === 'html' ? htmlToText(body).text : body;
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** The operator's settings plus the user's own policy (which only adds). */
export async function effectivePolicy(ctx: ActionContext): Promise<EffectivePolicy> {
  const combined = combinedSendPolicy(await getUserSendPolicy(ctx.userId));
  return {
    confirm: new Set(combined.confirm),
    allowedDomains: combined.allowedDomains,
    internalDomains: new Set([domainOf(ctx.connection.username), ...combined.internalDomains]),
    undoSeconds: combined.undoSeconds,
  };
}

/** At most this many "never written to" look-ups per send; beyond it the rest count as new. */
const MAX_HISTORY_LOOKUPS = 20;

export interface ConfirmReason {
  reason: 'external' | 'new' | 'all';
  recipients?: string[];
}

/**
 * Applies the send policy to one guarded action call. Returns when it may go (with
 * `ctx.undoSeconds` set); throws `recipient_not_allowed` or `confirmation_required` otherwise.
 */
export async function enforceSendPolicy(
  action: Action,
  input: unknown,
  ctx: ActionContext,
  confirmation: Confirmation | undefined,
): Promise<void> {
  const guard = action.guard;
  if (!guard) return;
  const policy = await effectivePolicy(ctx);
  ctx.undoSeconds = policy.undoSeconds;
  if (policy.confirm.size === 0 && policy.allowedDomains.length === 0) return;

  const preview = await guard.preview(input, ctx);
  const external = preview.recipients.filter((r) => !policy.internalDomains.has(domainOf(r)));
  if (policy.allowedDomains.length) {
    const refused = [...new Set(external.map(domainOf))].filter((d) => !policy.allowedDomains.includes(d));
    if (refused.length) {
      throw new Problem(
        'recipient_not_allowed',
        `${action.id} would send to ${refused.join(', ')}, outside the allowed recipient domains (SEND_ALLOWED_DOMAINS). Nothing was sent; remove those recipients or ask an operator to allow the domain.`,
        { domains: refused },
      );
    }
  }

  const reasons: ConfirmReason[] = [];
  if (policy.confirm.has('all')) reasons.push({ reason: 'all' });
  if (policy.confirm.has('external') && external.length)
    reasons.push({ reason: 'external', recipients: external });
  if (policy.confirm.has('new') && guard.writtenTo && preview.recipients.length) {
    const checked = preview.recipients.slice(0, MAX_HISTORY_LOOKUPS);
    const known = await guard.writtenTo(input, ctx, checked);
    const fresh = preview.recipients.filter((r) => !known.has(r));
    if (fresh.length) reasons.push({ reason: 'new', recipients: fresh });
  }
  if (reasons.length === 0) return;

  const hash = requestHash(action.id, fieldHashes(input));
  let refusedToken: string | undefined;
  if (confirmation?.token) {
    if (confirmation.confirmed) {
      const check = await consumeConfirmation(ctx.userId, confirmation.token, action.id, hash);
      if (check === 'ok') return;
      refusedToken = check;
    } else refusedToken = 'not_confirmed';
  }
  const issued = await issueConfirmation(ctx.userId, action.id, hash);
  const why = reasons
    .map((r) =>
      r.reason === 'all'
        ? 'every send needs confirmation'
        : r.reason === 'external'
          ? `outside the organisation: ${r.recipients!.join(', ')}`
          : `never written to before: ${r.recipients!.join(', ')}`,
    )
    .join('; ');
  const earlier =
    refusedToken === undefined
      ? ''
      : refusedToken === 'different_request'
        ? ' The confirmation token given was issued for a different message (any change needs a new confirmation).'
        : refusedToken === 'not_confirmed'
          ? ' A confirmation token was given without "confirm": true.'
          : ` The confirmation token given is ${refusedToken === 'expired' ? 'expired' : 'unknown or already used'}.`;
  throw new Problem(
    'confirmation_required',
    `Nothing was sent: the send policy asks the user to confirm this message first (${why}).${earlier} Show the preview to the user; if they agree, send the identical request again with the confirmation token (HTTP: Confirmation-Token header; MCP: "confirm": true and "confirmationToken").`,
    { reasons, preview, confirmationToken: issued.token, expiresAt: issued.expiresAt },
  );
}

registerUserData({
  name: 'sendPolicy',
  export: async (userId) => await getUserSendPolicy(userId),
  erase: deleteUserSendPolicy,
});
