output "resource_group_name" {
  description = "Resource group holding everything."
  value       = azurerm_resource_group.main.name
}

output "function_app_name" {
  description = "Function App to deploy the code to."
  value       = azurerm_function_app_flex_consumption.api.name
}

output "default_hostname" {
  description = "The Function App's default host name."
  value       = azurerm_function_app_flex_consumption.api.default_hostname
}

output "key_vault_name" {
  description = "Key Vault holding the app secrets."
  value       = azurerm_key_vault.main.name
}

output "key_vault_url" {
  description = "KEY_VAULT_URL."
  value       = azurerm_key_vault.main.vault_uri
}

output "key_vault_secret_names" {
  description = "Key Vault secret name for each secret setting."
  value       = local.key_vault_secret_names
}

output "storage_account_name" {
  description = "Storage account (host, tables, queues, deployment container)."
  value       = azurerm_storage_account.main.name
}

output "managed_identity_client_id" {
  description = "Client id of the app's user-assigned identity."
  value       = azurerm_user_assigned_identity.app.client_id
}

output "public_base_url" {
  description = "PUBLIC_BASE_URL."
  value       = local.public_base_url
}

output "microsoft_redirect_uri" {
  description = "Redirect URI to register on the app registration (Web platform)."
  value       = "${local.public_base_url}/api/auth/microsoft/callback"
}

output "graph_webhook_url" {
  description = "Graph change-notification URL."
  value       = "${local.public_base_url}/api/webhooks/graph"
}

output "graph_lifecycle_url" {
  description = "Graph lifecycle-notification URL."
  value       = "${local.public_base_url}/api/webhooks/graph/lifecycle"
}
