/** Graph v1.0: core (auth, errors, OData, paging, $batch, throttling) and the services. */
import type { Sandbox } from '../index';

export function installGraph(_sandbox: Sandbox): void {
  // routes registered on sandbox.routes
}
