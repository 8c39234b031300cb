/**
 * Teams in the change feed (docs/events.md). Three kinds of synced resource:
 * - `teams:chats`: the user's chats, listed each round with their last message's time; a chat
 *   whose last message is newer than the round before gets its own round (resources.ts `chats`).
 * - `teamschat:<id>`: one chat's messages. v1.0 has no delta for chat messages (graph-behaviour.md
 *   §5.2), so a round lists what changed after the previous one (`$filter=lastModifiedDateTime gt`).
 *   Notifications of the user's chat subscription name their chat and start that chat's round.
 * - `teamschannel:<id>`: a channel the user chose to follow (teams.syncChannel), by channel
 *   message delta; needs the admin-consented teams-history feature (ChannelMessage.Read.All).
 * Ids go inside keys base64url-encoded: chat ids (`19:...@thread.v2`) hold ':' and '@'.
 */
import type { ResourceKey } from './jobs';
import { listSyncStates, type SyncState } from './state';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const unb64 = (text: string) => Buffer.from(text, 'base64url').toString('utf8');

export function chatKey(chatId: string): ResourceKey {
  return `teamschat:${b64(chatId)}`;
}

export function parseChatKey(key: string): string | undefined {
  if (!key.startsWith('teamschat:')) return undefined;
  return unb64(key.slice('teamschat:'.length)) || undefined;
}

export function channelKey(teamId: string, channelId: string): ResourceKey {
  return `teamschannel:${b64(JSON.stringify([teamId, channelId]))}`;
}

export function parseChannelKey(key: string): { teamId: string; channelId: string } | undefined {
  if (!key.startsWith('teamschannel:')) return undefined;
  try {
    const parsed: unknown = JSON.parse(unb64(key.slice('teamschannel:'.length)));
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((v) => typeof v === 'string' && v))
      return { teamId: parsed[0] as string, channelId: parsed[1] as string };
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * The chat a notification of the user's chat subscription is about: its resource is
 * `chats('{chatId}')/messages('{messageId}')` (teams-changenotifications-chatmessage.md).
 */
export function chatOfNotification(resource: string | undefined): ResourceKey | undefined {
  const m = /^\/?chats\('([^']{1,400})'\)\/messages/i.exec(resource ?? '');
  return m ? chatKey(m[1]!) : undefined;
}

/** The channels the user chose to follow, each with its sync state. */
export async function followedChannels(
  userId: string,
): Promise<Array<{ state: SyncState; teamId: string; channelId: string }>> {
  const out: Array<{ state: SyncState; teamId: string; channelId: string }> = [];
  for (const state of await listSyncStates(userId)) {
    const channel = state.status === 'removed' ? undefined : parseChannelKey(state.resource);
    if (channel) out.push({ state, ...channel });
  }
  return out;
}
