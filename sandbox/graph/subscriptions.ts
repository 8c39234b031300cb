/** Graph subscriptions endpoints (see sandbox/README.md, "Adding a Graph service"). */
import type { Sandbox } from '../index';

export function installSubscriptions(_sandbox: Sandbox): void {
  // routes registered with graphRoute
}

/** Demo data for the seeded users (npm start). */
export function seedSubscriptions(_sandbox: Sandbox): void {
  // seeded through the store
}
