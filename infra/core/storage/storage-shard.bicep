// A storage shard (docs/scale.md, "Shard across storage accounts"): an account holding the rows of
// the users a hash of their id assigns to it (shared/shards.ts), with the same security
// defaults as the host account (no shared keys, TLS 1.2, Entra ID only) and the roles the app
// needs on it: Storage Table Data Contributor (the users' rows) and Storage Queue Data Contributor
// (the queues of the users' work, drained by the app's triggers; blobs stay in the host account).
param name string
param location string
param tags object = {}
param appPrincipalId string

// The per-user tables (shared/shards.ts userTable); the app creates any other on first use.
param tableNames array = [
  'connections'
  'syncstate'
  'syncreruns'
  'items'
  'changes'
  'feedticks'
  'audit'
  'idempotency'
  'heldsends'
  'sendconfirmations'
  'sendpolicies'
  'accounts'
  'subscriptions'
  'feedhealth'
  'eventcursors'
  'mcpgrants'
  'mcpsubscriptions'
]

// Storage Table Data Contributor, Storage Queue Data Contributor.
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }

  resource tableService 'tableServices' = {
    name: 'default'
    resource tables 'tables' = [for t in tableNames: {
      name: t
    }]
  }
}

resource tableRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource queueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = storage.name
