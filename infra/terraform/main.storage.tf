# One account for the Functions host, the app's tables and queues (DESIGN.md, Storage) and the
# Flex Consumption deployment container. Shared keys are off: Entra ID only.
locals {
  table_names = ["connections", "oauthstates", "subscriptions", "syncstate", "items", "changes", "audit"]
  queue_names = ["graph-notifications", "sync-jobs", "m365-changes"]
  # The per-user tables (shared/shards.ts userTable).
  shard_table_names = [
    "connections",
    "syncstate",
    "syncreruns",
    "items",
    "changes",
    "feedticks",
    "audit",
    "idempotency",
    "heldsends",
    "sendconfirmations",
    "sendpolicies",
    "accounts",
    "subscriptions",
    "feedhealth",
    "eventcursors",
    "mcpgrants",
    "mcpsubscriptions",
  ]
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

# Storage shards 1 … storage_shards-1 (docs/scale.md; shard 0 is the account above): the rows of
# the users a hash of their id assigns to each (shared/shards.ts), with the same security
# defaults and the one role the app needs there, Storage Table Data Contributor. The same as
# infra/core/storage/storage-shard.bicep.
resource "azurerm_storage_account" "shard" {
  count = var.storage_shards - 1

  name                            = "${local.abbrs.storageStorageAccounts}${local.resource_token}s${count.index + 1}"
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

resource "azapi_resource" "shard_table" {
  for_each = {
    for pair in setproduct(range(var.storage_shards - 1), local.shard_table_names) :
    "${pair[0]}/${pair[1]}" => { shard = pair[0], table = pair[1] }
  }

  type      = "Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01"
  name      = each.value.table
  parent_id = "${azurerm_storage_account.shard[each.value.shard].id}/tableServices/default"
  body      = {}
}

resource "azurerm_role_assignment" "shard_table" {
  count = var.storage_shards - 1

  name                             = uuidv5("url", "${azurerm_storage_account.shard[count.index].id}/${azurerm_user_assigned_identity.app.principal_id}/${local.role_definition_ids.storage_table_data_contributor}")
  scope                            = azurerm_storage_account.shard[count.index].id
  role_definition_id               = "/subscriptions/${var.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/${local.role_definition_ids.storage_table_data_contributor}"
  principal_id                     = azurerm_user_assigned_identity.app.principal_id
  principal_type                   = "ServicePrincipal"
  skip_service_principal_aad_check = true
}

# The shard's queues carry its users' work (shared/shards.ts USER_QUEUES); the app sends,
# and its queue triggers receive and delete, with the same identity.
resource "azurerm_role_assignment" "shard_queue" {
  count = var.storage_shards - 1

  name                             = uuidv5("url", "${azurerm_storage_account.shard[count.index].id}/${azurerm_user_assigned_identity.app.principal_id}/${local.role_definition_ids.storage_queue_data_contributor}")
  scope                            = azurerm_storage_account.shard[count.index].id
  role_definition_id               = "/subscriptions/${var.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/${local.role_definition_ids.storage_queue_data_contributor}"
  principal_id                     = azurerm_user_assigned_identity.app.principal_id
  principal_type                   = "ServicePrincipal"
  skip_service_principal_aad_check = true
}
