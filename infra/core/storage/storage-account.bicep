// One account for the Functions host (AzureWebJobsStorage), the app's tables and queues
// (DESIGN.md, Storage) and the Flex Consumption deployment container. Shared keys are off:
// everything uses Entra ID through the app's managed identity.
param name string
param location string
param tags object = {}
param deploymentContainerName string

// DESIGN.md "Storage". The app also creates missing ones on first use (shared/storage/clients.ts);
// declaring them here makes a fresh environment complete and visible in the portal.
param tableNames array = ['connections', 'oauthstates', 'subscriptions', 'syncstate', 'items', 'changes', 'audit']
param queueNames array = ['graph-notifications', 'sync-jobs', 'm365-changes']

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

  resource blobService 'blobServices' = {
    name: 'default'
    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }

  resource tableService 'tableServices' = {
    name: 'default'
    resource tables 'tables' = [for t in tableNames: {
      name: t
    }]
  }

  resource queueService 'queueServices' = {
    name: 'default'
    resource queues 'queues' = [for q in queueNames: {
      name: q
    }]
  }
}

output name string = storage.name
output id string = storage.id
output primaryEndpoints object = storage.properties.primaryEndpoints
