# The Function App on the Flex Consumption plan (Linux, Node 22). Secrets are never app settings:
# the app reads them from KEY_VAULT_URL with its managed identity (AZURE_CLIENT_ID).
resource "azurerm_service_plan" "main" {
  name                = "${local.abbrs.webServerFarms}${local.resource_token}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  os_type             = "Linux"
  sku_name            = "FC1"
  tags                = local.tags
}

locals {
  # test/unit/infra.test.ts compares these with shared/config.ts and infra/app/api.bicep.
  function_app_settings = {
    AzureWebJobsStorage__accountName          = azurerm_storage_account.main.name
    AzureWebJobsStorage__credential           = "managedidentity"
    AzureWebJobsStorage__clientId             = azurerm_user_assigned_identity.app.client_id
    AzureWebJobsStorage__blobServiceUri       = azurerm_storage_account.main.primary_blob_endpoint
    AzureWebJobsStorage__queueServiceUri      = azurerm_storage_account.main.primary_queue_endpoint
    AzureWebJobsStorage__tableServiceUri      = azurerm_storage_account.main.primary_table_endpoint
    STORAGE_SHARDS                            = tostring(var.storage_shards)
    AZURE_CLIENT_ID                           = azurerm_user_assigned_identity.app.client_id
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING = "ClientId=${azurerm_user_assigned_identity.app.client_id};Authorization=AAD"
    KEY_VAULT_URL                             = azurerm_key_vault.main.vault_uri
    MICROSOFT_CLIENT_ID                       = var.microsoft_client_id
    MICROSOFT_TENANT_ID                       = var.microsoft_tenant_id
    MICROSOFT_FEATURES                        = var.microsoft_features
    MICROSOFT_CLOUD                           = var.microsoft_cloud
    MICROSOFT_REDIRECT_URI                    = "${local.public_base_url}/api/auth/microsoft/callback"
    PUBLIC_BASE_URL                           = local.public_base_url
    CALLER_TOKEN_ISSUER                       = var.caller_token_issuer
    CALLER_TOKEN_AUDIENCE                     = var.caller_token_audience
    CALLER_JWKS_URL                           = var.caller_jwks_url
    RETURN_URL_ALLOWLIST                      = var.return_url_allowlist
  }
  # Each storage shard's tables and queues, reached with the app identity (shared/shards.ts);
  # the Functions host reads STORAGE_SHARD_k__queueServiceUri for the shard's queue triggers.
  shard_app_settings = merge({}, [
    for i, shard in azurerm_storage_account.shard : {
      "STORAGE_SHARD_${i + 1}__tableServiceUri" = shard.primary_table_endpoint
      "STORAGE_SHARD_${i + 1}__queueServiceUri" = shard.primary_queue_endpoint
      "STORAGE_SHARD_${i + 1}__credential"      = "managedidentity"
      "STORAGE_SHARD_${i + 1}__clientId"        = azurerm_user_assigned_identity.app.client_id
    }
  ]...)
}

resource "azurerm_function_app_flex_consumption" "api" {
  name                = local.function_app_name
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  service_plan_id     = azurerm_service_plan.main.id
  https_only          = true
  tags                = merge(local.tags, { "azd-service-name" = "api" })

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.app.id]
  }

  storage_container_type            = "blobContainer"
  storage_container_endpoint        = "${azurerm_storage_account.main.primary_blob_endpoint}${azurerm_storage_container.deployment.name}"
  storage_authentication_type       = "UserAssignedIdentity"
  storage_user_assigned_identity_id = azurerm_user_assigned_identity.app.id

  runtime_name           = "node"
  runtime_version        = "22"
  maximum_instance_count = var.maximum_instance_count
  instance_memory_in_mb  = var.instance_memory_mb

  site_config {
    application_insights_connection_string = azurerm_application_insights.main.connection_string
    minimum_tls_version                    = "1.2"
    http2_enabled                          = true
  }

  app_settings = merge(local.function_app_settings, local.shard_app_settings)

  # The app reads Storage and Key Vault with its identity from its first start.
  depends_on = [azurerm_role_assignment.app, azurerm_role_assignment.shard_table, azurerm_role_assignment.shard_queue]
}

# PUBLIC_BASE_URL is computed before the app exists (an app cannot reference its own host name).
# If Azure assigned a different default host name, say so instead of registering wrong URLs.
check "public_base_url_matches_host" {
  assert {
    condition     = var.public_base_url != "" || azurerm_function_app_flex_consumption.api.default_hostname == "${local.function_app_name}.azurewebsites.net"
    error_message = "The app's default host name is not <name>.azurewebsites.net: set public_base_url to https://<actual host> and apply again."
  }
}
