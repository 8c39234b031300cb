// Entry point for `azd up` / `azd provision`: one resource group holding the Function App
// (Flex Consumption, Linux, Node 22), its Storage account, Key Vault, user-assigned managed
// identity and monitoring. Conventions follow functions-quickstart-typescript-azd (azd params,
// abbreviations.json + resourceToken, azd tags, UPPER_SNAKE outputs); see docs/deployment.md for
// why the modules are plain resource declarations rather than pinned br/public:avm modules.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used in resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Azure region for every resource (data residency: tokens, audit log and change feed live here).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('E-mail address the operations alerts go to (docs/operations.md); empty for alerts in the portal only.')
param alertEmail string = ''

@description('Object id of the operator running azd; granted Key Vault Secrets Officer to put the secrets in. Empty to skip.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
@description('Kind of principal principalId is (ServicePrincipal when a pipeline provisions).')
param principalType string = 'User'

@minLength(1)
@description('Application (client) id of the Entra app registration (MICROSOFT_CLIENT_ID).')
param microsoftClientId string

@description('common, organizations, consumers, a tenant id or a verified domain; empty for the app default (common).')
param microsoftTenantId string = ''

@description('Feature sets to request, comma-separated (mail,calendar,files,teams,contacts,todo,...); empty for the app default.')
param microsoftFeatures string = ''

@description('Microsoft cloud of the tenant (MICROSOFT_CLOUD): global, usgov (GCC High), usgov-dod or china; empty for global.')
param microsoftCloud string = ''

@minLength(1)
@description('Issuer (iss) of the platform backend caller tokens (CALLER_TOKEN_ISSUER).')
param callerTokenIssuer string

@minLength(1)
@description('Audience (aud) of the platform backend caller tokens (CALLER_TOKEN_AUDIENCE).')
param callerTokenAudience string

@description('JWKS URL of the platform backend when it signs caller tokens asymmetrically; empty when CALLER_TOKEN_SECRET (Key Vault) is used.')
param callerJwksUrl string = ''

@minLength(1)
@description('Comma-separated URL prefixes the OAuth flow may return the browser to (RETURN_URL_ALLOWLIST).')
param returnUrlAllowlist string

@description('Public https base URL when a custom domain or front door sits before the app; empty for https://<default host name>.')
param publicBaseUrl string = ''

@minValue(1)
@maxValue(64)
@description('Storage accounts the users\' rows are spread across by a hash of the user id (STORAGE_SHARDS, docs/scale.md): 1 keeps them all in the host account; 8 for a million users. To grow it once users are connected: deploy the new count with the app stopped, run npm run reshard, start.')
param storageShards int = 1

@minValue(1)
@maxValue(1000)
@description('Flex Consumption scale-out limit.')
param maximumInstanceCount int = 100

@allowed([512, 2048, 4096])
@description('Flex Consumption instance memory size.')
param instanceMemoryMB int = 2048

var abbrs = loadJsonContent('abbreviations.json')
// Same token for the same subscription, environment and region: re-running azd is idempotent.
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
// The deployment package container is per app, as in the quickstart.
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'core/identity/user-assigned-identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'core/monitor/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module operations 'core/monitor/operations.bicep' = {
  name: 'operations'
  scope: rg
  params: {
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    location: location
    tags: tags
    alertEmail: alertEmail
  }
}

module storage 'core/storage/storage-account.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
  }
}

// Shards 1 … storageShards-1; shard 0 is the host account above.
module storageShardAccounts 'core/storage/storage-shard.bicep' = [for k in range(1, storageShards - 1): {
  name: 'storage-shard-${k}'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}s${k}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
  }
}]

module keyVault 'core/security/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    appPrincipalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    operatorPrincipalId: principalId
    operatorPrincipalType: principalType
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageShardAccountNames: [for (k, i) in range(1, storageShards - 1): storageShardAccounts[i].outputs.name]
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultUri: keyVault.outputs.uri
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    microsoftClientId: microsoftClientId
    microsoftTenantId: microsoftTenantId
    microsoftFeatures: microsoftFeatures
    microsoftCloud: microsoftCloud
    callerTokenIssuer: callerTokenIssuer
    callerTokenAudience: callerTokenAudience
    callerJwksUrl: callerJwksUrl
    returnUrlAllowlist: returnUrlAllowlist
    publicBaseUrl: publicBaseUrl
  }
  // The app reads Key Vault and Storage with its identity from its first start.
  dependsOn: [rbac]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URL string = keyVault.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
// What the app registration and Graph subscriptions need (docs/deployment.md, step 3).
output PUBLIC_BASE_URL string = api.outputs.publicBaseUrl
output MICROSOFT_REDIRECT_URI string = api.outputs.redirectUri
output GRAPH_WEBHOOK_URL string = api.outputs.webhookUrl
output GRAPH_LIFECYCLE_URL string = api.outputs.lifecycleUrl
