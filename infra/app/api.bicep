// The Function App on the Flex Consumption plan (Linux, Node 22) with its app settings.
// Property names: Microsoft.Web/sites functionAppConfig { deployment.storage, scaleAndConcurrency,
// runtime } (https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to).
//
// Settings: identity-based host storage (AzureWebJobsStorage__*), and KEY_VAULT_URL instead of
// secrets: the app reads MICROSOFT_CLIENT_SECRET, TOKEN_ENCRYPTION_KEYS, CALLER_TOKEN_SECRET and EVENTS_SIGNING_SECRETS from
// Key Vault itself with the managed identity (AZURE_CLIENT_ID), so no secret is ever an app setting.
// test/unit/infra.test.ts compares `appSettings` below with shared/config.ts.
param name string
param planName string
param location string
param tags object = {}
param identityId string
param identityClientId string
param storageAccountName string
@description('Storage shard accounts 1 … n-1 (docs/scale.md); empty for one account.')
param storageShardAccountNames array = []
param deploymentContainerName string
param applicationInsightsName string
param keyVaultUri string
param maximumInstanceCount int
param instanceMemoryMB int
param microsoftClientId string
param microsoftTenantId string
param microsoftFeatures string
param microsoftCloud string
param callerTokenIssuer string
param callerTokenAudience string
param callerJwksUrl string
param returnUrlAllowlist string
param publicBaseUrl string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Any future @Microsoft.KeyVault(...) setting resolves with the UAMI, never a system identity.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

var baseUrl = empty(publicBaseUrl) ? 'https://${functionApp.properties.defaultHostName}' : publicBaseUrl

var appSettings = {
  // Host storage, identity-based (style.md 7): no connection string, no account key.
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  // Users' rows and queued work spread across accounts by hash (shared/shards.ts); each
  // shard's settings are in shardSettings below.
  STORAGE_SHARDS: string(length(storageShardAccountNames) + 1)
  // DefaultAzureCredential / ManagedIdentityCredential pick the user-assigned identity by this.
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // Secrets come from here (microsoft-client-secret, token-encryption-keys, caller-token-secret,
  // events-signing-secrets).
  KEY_VAULT_URL: keyVaultUri
  MICROSOFT_CLIENT_ID: microsoftClientId
  MICROSOFT_TENANT_ID: microsoftTenantId
  MICROSOFT_FEATURES: microsoftFeatures
  MICROSOFT_CLOUD: microsoftCloud
  MICROSOFT_REDIRECT_URI: '${baseUrl}/api/auth/microsoft/callback'
  PUBLIC_BASE_URL: baseUrl
  CALLER_TOKEN_ISSUER: callerTokenIssuer
  CALLER_TOKEN_AUDIENCE: callerTokenAudience
  CALLER_JWKS_URL: callerJwksUrl
  RETURN_URL_ALLOWLIST: returnUrlAllowlist
}

// Each shard's tables and queues, reached with the app identity; the Functions host reads
// STORAGE_SHARD_k__queueServiceUri for the shard's queue triggers (identity-based connections:
// https://learn.microsoft.com/azure/azure-functions/functions-reference#configure-an-identity-based-connection).
var shardSettings = toObject(
  flatten(map(range(0, length(storageShardAccountNames)), i => [
    {
      name: 'STORAGE_SHARD_${i + 1}__tableServiceUri'
      value: 'https://${storageShardAccountNames[i]}.table.${environment().suffixes.storage}'
    }
    {
      name: 'STORAGE_SHARD_${i + 1}__queueServiceUri'
      value: 'https://${storageShardAccountNames[i]}.queue.${environment().suffixes.storage}'
    }
    {
      name: 'STORAGE_SHARD_${i + 1}__credential'
      value: 'managedidentity'
    }
    {
      name: 'STORAGE_SHARD_${i + 1}__clientId'
      value: identityClientId
    }
  ])),
  e => e.name,
  e => e.value
)

resource appSettingsConfig 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(appSettings, shardSettings)
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
output publicBaseUrl string = baseUrl
output redirectUri string = '${baseUrl}/api/auth/microsoft/callback'
output webhookUrl string = '${baseUrl}/api/webhooks/graph'
output lifecycleUrl string = '${baseUrl}/api/webhooks/graph/lifecycle'
