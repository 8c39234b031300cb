/**
 * MCP resource subscriptions (`resources/subscribe`), kept in storage so any instance serving the
 * session's stream sees them: table `mcpsubscriptions`, partition = user id, row =
 * `<session id>|<base64url of the URI>`. A session's rows go when it ends (DELETE /api/mcp) or
 * with the user's data.
 */
import { erasePartition, partitionRows, userTable } from '../storage/clients';
import { registerUserData } from '../privacy';

export const MCP_SUBSCRIPTIONS_TABLE = 'mcpsubscriptions';

const rowKey = (session: string, uri: string) => `${session}|${Buffer.from(uri).toString('base64url')}`;

export async function subscribe(userId: string, session: string, uri: string): Promise<void> {
  const client = await userTable(MCP_SUBSCRIPTIONS_TABLE, userId);
  await client.upsertEntity(
    { partitionKey: userId, rowKey: rowKey(session, uri), session, uri, createdAt: new Date().toISOString() },
    'Replace',
  );
}

export async function unsubscribe(userId: string, session: string, uri: string): Promise<void> {
  const client = await userTable(MCP_SUBSCRIPTIONS_TABLE, userId);
  try {
    await client.deleteEntity(userId, rowKey(session, uri));
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
}

/** The URIs a session subscribed to. */
export async function sessionSubscriptions(userId: string, session: string): Promise<string[]> {
  const client = await userTable(MCP_SUBSCRIPTIONS_TABLE, userId);
  const uris: string[] = [];
  const q = (v: string) => v.replace(/'/g, "''");
  for await (const row of client.listEntities<{ uri?: string }>({
    queryOptions: {
      filter: `PartitionKey eq '${q(userId)}' and RowKey ge '${q(session)}|' and RowKey lt '${q(session)}}'`,
      select: ['uri'],
    },
  })) {
    if (typeof row.uri === 'string') uris.push(row.uri);
  }
  return uris;
}

export async function endSession(userId: string, session: string): Promise<void> {
  const client = await userTable(MCP_SUBSCRIPTIONS_TABLE, userId);
  for (const uri of await sessionSubscriptions(userId, session)) {
    await client.deleteEntity(userId, rowKey(session, uri)).catch(() => undefined);
  }
}

registerUserData({
  name: 'mcpSubscriptions',
  async export(userId) {
    const rows = await partitionRows<{ uri?: string; createdAt?: string }>(
      await userTable(MCP_SUBSCRIPTIONS_TABLE, userId),
      userId,
    );
    return rows.map((r) => ({ uri: r.uri, createdAt: r.createdAt }));
  },
  erase: async (userId) => await erasePartition(await userTable(MCP_SUBSCRIPTIONS_TABLE, userId), userId),
});
