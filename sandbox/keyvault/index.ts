/** Key Vault secrets (get, set, list versions, delete) behind the 401 challenge flow. */
import type { Sandbox } from '../index';

export function installKeyVault(_sandbox: Sandbox): void {
  // routes registered on sandbox.routes
}
