/**
 * Microsoft's clouds (https://learn.microsoft.com/graph/deployments): the global service and the
 * national clouds, each with its own sign-in authority, Microsoft Graph endpoint and Key Vault
 * domain. Tokens of one cloud are not accepted by another, and personal Microsoft accounts exist
 * only in the global service. `MICROSOFT_CLOUD` picks one; MICROSOFT_AUTHORITY_HOST and
 * GRAPH_BASE_URL default to its endpoints (the sandbox sets them to itself).
 *
 * Some APIs are not offered in every cloud: each API page of the Graph reference says where it is
 * ("national cloud deployments" table). The features built on them are refused there with
 * `feature_unavailable` instead of a Graph error.
 */
export const CLOUD_NAMES = ['global', 'usgov', 'usgov-dod', 'china'] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

export interface Cloud {
  /** What users and operators call it. */
  label: string;
  authorityHost: string;
  /** Graph's service root, v1.0 included. */
  graphBaseUrl: string;
  /** Key Vault DNS suffix (https://<name><suffix>). */
  keyVaultSuffix: string;
  /** Features whose Graph APIs this cloud does not offer, with the page that says so. */
  unavailable: Partial<Record<string, string>>;
}

// place-list.md: Global service only. application-post-onlinemeetings.md, calltranscript-get.md:
// global and US Government (includes/global-us.md), not China.
const ROOMS = 'https://learn.microsoft.com/graph/api/place-list (global service only)';
const MEETINGS =
  'https://learn.microsoft.com/graph/api/application-post-onlinemeetings (global and US Government only)';
const MEETING_CONTENT =
  'https://learn.microsoft.com/graph/api/calltranscript-get (global and US Government only)';

export const CLOUDS: Record<CloudName, Cloud> = {
  global: {
    label: 'the Microsoft global service',
    authorityHost: 'https://login.microsoftonline.com',
    graphBaseUrl: 'https://graph.microsoft.com/v1.0',
    keyVaultSuffix: '.vault.azure.net',
    unavailable: {},
  },
  // Microsoft 365 GCC High. (GCC itself uses the global endpoints: deployments.md.)
  usgov: {
    label: 'Microsoft Cloud for US Government (GCC High, L4)',
    authorityHost: 'https://login.microsoftonline.us',
    graphBaseUrl: 'https://graph.microsoft.us/v1.0',
    keyVaultSuffix: '.vault.usgovcloudapi.net',
    unavailable: { rooms: ROOMS },
  },
  'usgov-dod': {
    label: 'Microsoft Cloud for US Government (DoD, L5)',
    authorityHost: 'https://login.microsoftonline.us',
    graphBaseUrl: 'https://dod-graph.microsoft.us/v1.0',
    keyVaultSuffix: '.vault.usgovcloudapi.net',
    unavailable: { rooms: ROOMS },
  },
  china: {
    label: 'Microsoft 365 operated by 21Vianet (China)',
    authorityHost: 'https://login.chinacloudapi.cn',
    graphBaseUrl: 'https://microsoftgraph.chinacloudapi.cn/v1.0',
    keyVaultSuffix: '.vault.azure.cn',
    unavailable: { rooms: ROOMS, meetings: MEETINGS, 'meetings-content': MEETING_CONTENT },
  },
};

/** Why a feature cannot be had in this cloud, or undefined when it can. */
export function unavailableIn(cloud: CloudName, feature: string): string | undefined {
  const source = CLOUDS[cloud].unavailable[feature];
  return source
    ? `"${feature}" is not offered in ${CLOUDS[cloud].label}: Microsoft Graph does not serve its APIs there (${source}).`
    : undefined;
}
