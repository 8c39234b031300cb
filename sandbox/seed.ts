/** The demo tenant: a few users with realistic data, so `npm start` has something to show. */
import type { Sandbox } from './context';
import { seedGraph } from './graph';
import { createHash } from 'node:crypto';

/** Stable ids for seeded users, so demos and bookmarks survive restarts. */
function stableId(upn: string): string {
  const h = createHash('sha256').update(upn).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const SEED_USERS = [
  {
    userPrincipalName: 'adele.vance@contoso.test',
    displayName: 'Adele Vance',
    jobTitle: 'Product Manager',
    timeZone: 'Europe/Berlin',
  },
  {
    userPrincipalName: 'megan.bowen@contoso.test',
    displayName: 'Megan Bowen',
    jobTitle: 'Marketing Lead',
    timeZone: 'America/New_York',
  },
  {
    userPrincipalName: 'lee.gu@contoso.test',
    displayName: 'Lee Gu',
    jobTitle: 'Engineer',
    timeZone: 'Asia/Tokyo',
  },
] as const;

export function seedTenant(sandbox: Sandbox): void {
  for (const user of SEED_USERS) {
    if (!sandbox.directory.findUser(user.userPrincipalName)) {
      sandbox.directory.addUser({ ...user, id: stableId(user.userPrincipalName) });
    }
  }
  seedGraph(sandbox);
}
