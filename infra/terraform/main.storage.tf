# One account for the Functions host, the app's tables and queues (DESIGN.md, Storage) and the
# Flex Consumption deployment container. Shared keys are off: Entra ID only.
locals {
  table_names = ["connections", "oauthstates", "subscriptions", "syncstate", "items", "changes", "audit"]
  queue_names = ["graph-notifications", "sync-jobs", "m365-changes"]
}

resource "azurerm_storage_account" "main" {
  name                            = "${local.abbrs.storageStorageAccounts}${local.resource_token}"
  resource_group_name             = azurerm_resource_group.main.name
  location                        = azurerm_resource_group.main.location
  account_kind                    = "StorageV2"
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  access_tier                     = "Hot"
  shared_access_key_enabled       = false
  default_to_oauth_authentication = true
  allow_nested_items_to_be_public = false
  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  public_network_access_enabled   = true
  tags                            = local.tags
}

resource "azurerm_storage_container" "deployment" {
  name                  = local.deployment_container_name
  storage_account_id    = azurerm_storage_account.main.id
  container_access_type = "private"
}

# Through Resource Manager (no shared key, no data-plane role needed for the deployer). The app
# also creates missing ones on first use (shared/storage/clients.ts).
resource "azapi_resource" "table" {
  for_each = toset(local.table_names)

  type      = "Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01"
  name      = each.value
  parent_id = "${azurerm_storage_account.main.id}/tableServices/default"
  body      = {}
}

resource "azapi_resource" "queue" {
  for_each = toset(local.queue_names)

  type      = "Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01"
  name      = each.value
  parent_id = "${azurerm_storage_account.main.id}/queueServices/default"
  body      = {}
}
