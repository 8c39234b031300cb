/** Graph calendar endpoints (see sandbox/README.md, "Adding a Graph service"). */
import type { Sandbox } from '../index';

export function installCalendar(_sandbox: Sandbox): void {
  // routes registered with graphRoute
}

/** Demo data for the seeded users (npm start). */
export function seedCalendar(_sandbox: Sandbox): void {
  // seeded through the store
}
