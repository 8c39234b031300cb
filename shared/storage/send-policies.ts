/**
 * The `sendpolicies` table: a user's own send policy (one row per user), set by the platform
 * through `PUT /api/connections/me/send-policy`. It can only tighten the operator's settings
 * (SEND_CONFIRM, SEND_UNDO_SECONDS): confirm triggers add up, the longer undo window wins. It is
 * deliberately not an action, so a model can neither read nor loosen it through MCP.
 */
import { getConfig, isDomain, SEND_CONFIRM_TRIGGERS, type SendConfirmTrigger } from '../config';
import { userTable } from './clients';

export const SEND_POLICIES_TABLE = 'sendpolicies';
const ROW = 'policy';

export interface UserSendPolicy {
  /** Extra confirm triggers for this user. */
  confirm: SendConfirmTrigger[];
  /** This user's undo window in seconds (the longer of it and SEND_UNDO_SECONDS applies). */
  undoSeconds: number;
  /** Extra internal domains for this user (e.g. a partner they work with daily). */
  internalDomains: string[];
  updatedAt?: string;
}

export const EMPTY_SEND_POLICY: UserSendPolicy = { confirm: [], undoSeconds: 0, internalDomains: [] };

/** Validates a policy a caller sent: every problem named by field. */
export function parseUserSendPolicy(raw: unknown): {
  policy?: UserSendPolicy;
  errors: Array<{ field: string; message: string }>;
} {
  const errors: Array<{ field: string; message: string }> = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return { errors: [{ field: '(body)', message: 'must be a JSON object' }] };
  const body = raw as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!['confirm', 'undoSeconds', 'internalDomains'].includes(key))
      errors.push({
        field: key,
        message: 'is not a send policy field (confirm, undoSeconds, internalDomains)',
      });
  }
  const confirm = body.confirm ?? [];
  if (
    !Array.isArray(confirm) ||
    confirm.some((t) => !(SEND_CONFIRM_TRIGGERS as readonly unknown[]).includes(t))
  )
    errors.push({ field: 'confirm', message: `must be a list of ${SEND_CONFIRM_TRIGGERS.join(', ')}` });
  const undo = body.undoSeconds ?? 0;
  if (typeof undo !== 'number' || !Number.isInteger(undo) || undo < 0 || undo > 600)
    errors.push({ field: 'undoSeconds', message: 'must be a whole number of seconds from 0 to 600' });
  const domains = body.internalDomains ?? [];
  if (
    !Array.isArray(domains) ||
    domains.length > 50 ||
    domains.some((d) => typeof d !== 'string' || !isDomain(d.toLowerCase()))
  )
    errors.push({
      field: 'internalDomains',
      message: 'must be a list of at most 50 domains like example.com',
    });
  if (errors.length) return { errors };
  return {
    policy: {
      confirm: [...new Set(confirm as SendConfirmTrigger[])],
      undoSeconds: undo as number,
      internalDomains: [...new Set((domains as string[]).map((d) => d.toLowerCase()))],
    },
    errors,
  };
}

export async function getUserSendPolicy(userId: string): Promise<UserSendPolicy> {
  const client = await userTable(SEND_POLICIES_TABLE, userId);
  try {
    const row = await client.getEntity<{
      confirm: string;
      undoSeconds: number;
      internalDomains: string;
      updatedAt: string;
    }>(userId, ROW);
    return {
      confirm: JSON.parse(row.confirm) as SendConfirmTrigger[],
      undoSeconds: row.undoSeconds,
      internalDomains: JSON.parse(row.internalDomains) as string[],
      updatedAt: row.updatedAt,
    };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return EMPTY_SEND_POLICY;
    throw err;
  }
}

export async function saveUserSendPolicy(userId: string, policy: UserSendPolicy): Promise<UserSendPolicy> {
  const client = await userTable(SEND_POLICIES_TABLE, userId);
  const updatedAt = new Date().toISOString();
  await client.upsertEntity(
    {
      partitionKey: userId,
      rowKey: ROW,
      confirm: JSON.stringify(policy.confirm),
      undoSeconds: policy.undoSeconds,
      internalDomains: JSON.stringify(policy.internalDomains),
      updatedAt,
    },
    'Replace',
  );
  return { ...policy, updatedAt };
}

export async function deleteUserSendPolicy(userId: string): Promise<number> {
  const client = await userTable(SEND_POLICIES_TABLE, userId);
  try {
    await client.deleteEntity(userId, ROW);
    return 1;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return 0;
    throw err;
  }
}

/** What applies to a user: the operator's settings plus the user's own, which only add. */
export function combinedSendPolicy(own: UserSendPolicy): {
  confirm: SendConfirmTrigger[];
  undoSeconds: number;
  allowedDomains: string[];
  internalDomains: string[];
} {
  const config = getConfig();
  return {
    confirm: [...new Set([...config.SEND_CONFIRM, ...own.confirm])],
    undoSeconds: Math.max(config.SEND_UNDO_SECONDS, own.undoSeconds),
    allowedDomains: config.SEND_ALLOWED_DOMAINS,
    internalDomains: [...new Set([...config.SEND_INTERNAL_DOMAINS, ...own.internalDomains])],
  };
}
