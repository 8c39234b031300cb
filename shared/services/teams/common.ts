/**
 * What the Teams action files share: the id fields (teams, channels, chats, messages), paging
 * fields, Graph paths and the Teams error mapping.
 */
import { z } from 'zod';
import type { ActionContext } from '../../actions/types';
import { seg } from '../../graph/client';
import type { GraphError } from '../../graph/errors';
import { Problem } from '../../http/problem';

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const teamId = z
  .string()
  .regex(GUID, 'must be a team id (a GUID) as listJoinedTeams returns it')
  .describe('Team id (a GUID) from teams.listJoinedTeams.');
export const channelId = z
  .string()
  .min(1)
  .max(256)
  .describe('Channel id (looks like 19:...@thread.tacv2) from teams.listChannels.');
export const chatId = z
  .string()
  .min(1)
  .max(256)
  .describe(
    'Chat id (looks like 19:...@thread.v2 or 19:..._...@unq.gbl.spaces) from teams.listChats or teams.createChat.',
  );
export const messageId = z
  .string()
  .regex(/^\d{1,20}$/, 'must be a message id (digits)')
  .describe('Message id (digits) of a top-level channel message.');
export const cursor = z
  .string()
  .min(1)
  .max(4096)
  .optional()
  .describe('nextCursor from the previous page; omit for the first page.');
export const top = (what: string) =>
  z
    .number()
    .int()
    .min(1)
    .max(50)
    .optional()
    .describe(`${what} per page, 1–50 (Microsoft Graph's maximum; default 20).`);

// ---------------------------------------------------------------- errors

export function graphInfo(err: GraphError): Record<string, unknown> {
  return { graphCode: err.code, ...(err.requestId ? { graphRequestId: err.requestId } : {}) };
}

/** Teams answers 403 for "not a member" as well as for a missing permission (reference §1.1). */
export function teamsErrors(forbidden: string, missing: string) {
  return (err: GraphError): Problem | undefined => {
    if (err.status === 403) return new Problem('forbidden', forbidden, graphInfo(err));
    if (err.status === 404) return new Problem('not_found', missing, graphInfo(err));
    return undefined;
  };
}

export function channelPath(team: string, channel: string): string {
  return `/teams/${seg(team)}/channels/${seg(channel)}`;
}

/** Our Entra object id: MSAL's homeAccountId is `{oid}.{tid}` for work accounts. */
export function ownObjectId(ctx: ActionContext): string {
  return ctx.connection.homeAccountId.split('.')[0] ?? '';
}
