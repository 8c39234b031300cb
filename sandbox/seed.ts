/** The demo tenant: a few users with realistic data, so `npm start` has something to show. */
import type { Sandbox } from './index';

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
    if (!sandbox.directory.findUser(user.userPrincipalName)) sandbox.directory.addUser({ ...user });
  }
}
