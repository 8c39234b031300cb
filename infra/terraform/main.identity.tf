# The app's only identity, and exactly the roles it needs, each at the narrowest scope.
# Role assignment names are deterministic (uuidv5 of scope, principal and role), like Bicep's
# guid(scope, principal, role). Built-in role ids:
# https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
resource "azurerm_user_assigned_identity" "app" {
  name                = "${local.abbrs.managedIdentityUserAssignedIdentities}api-${local.resource_token}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  tags                = local.tags
}

locals {
  role_definition_ids = {
    # Storage Blob Data Owner: host blob leases and the Flex deployment container.
    storage_blob_data_owner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
    # Storage Queue Data Contributor: queue triggers and enqueue.
    storage_queue_data_contributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
    # Storage Table Data Contributor: token vault, subscriptions, sync state, audit.
    storage_table_data_contributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
    # Key Vault Secrets User: read the three app secrets.
    key_vault_secrets_user = "4633458b-17de-408a-b874-0445c86b69e6"
    # Monitoring Metrics Publisher: Entra-authenticated Application Insights ingestion.
    monitoring_metrics_publisher = "3913510d-42f4-4e42-8a64-420c390055eb"
    # Key Vault Secrets Officer: the operator only, to set and rotate secrets.
    key_vault_secrets_officer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
  }

  app_role_assignments = {
    storage_blob  = { scope = azurerm_storage_account.main.id, role = local.role_definition_ids.storage_blob_data_owner }
    storage_queue = { scope = azurerm_storage_account.main.id, role = local.role_definition_ids.storage_queue_data_contributor }
    storage_table = { scope = azurerm_storage_account.main.id, role = local.role_definition_ids.storage_table_data_contributor }
    key_vault     = { scope = azurerm_key_vault.main.id, role = local.role_definition_ids.key_vault_secrets_user }
    monitoring    = { scope = azurerm_application_insights.main.id, role = local.role_definition_ids.monitoring_metrics_publisher }
  }

  operator_principal_id = var.operator_principal_id != "" ? var.operator_principal_id : data.azurerm_client_config.current.object_id
}

resource "azurerm_role_assignment" "app" {
  for_each = local.app_role_assignments

  name                             = uuidv5("url", "${each.value.scope}/${azurerm_user_assigned_identity.app.principal_id}/${each.value.role}")
  scope                            = each.value.scope
  role_definition_id               = "/subscriptions/${var.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/${each.value.role}"
  principal_id                     = azurerm_user_assigned_identity.app.principal_id
  principal_type                   = "ServicePrincipal"
  skip_service_principal_aad_check = true
}

resource "azurerm_role_assignment" "operator_secrets_officer" {
  name               = uuidv5("url", "${azurerm_key_vault.main.id}/${local.operator_principal_id}/${local.role_definition_ids.key_vault_secrets_officer}")
  scope              = azurerm_key_vault.main.id
  role_definition_id = "/subscriptions/${var.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/${local.role_definition_ids.key_vault_secrets_officer}"
  principal_id       = local.operator_principal_id
}
