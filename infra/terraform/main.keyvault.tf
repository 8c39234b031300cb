# RBAC-mode Key Vault with soft delete and purge protection for the app secrets. Key Vault
# secret names allow only letters, digits and hyphens: the app reads the setting name lower-cased
# with _ as - (keyVaultSecretName in shared/secrets).
locals {
  key_vault_secret_names = {
    MICROSOFT_CLIENT_SECRET = "microsoft-client-secret"
    TOKEN_ENCRYPTION_KEYS   = "token-encryption-keys"
    CALLER_TOKEN_SECRET     = "caller-token-secret"
    EVENTS_SIGNING_SECRETS  = "events-signing-secrets"
  }
  key_vault_secret_values = {
    MICROSOFT_CLIENT_SECRET = var.microsoft_client_secret
    TOKEN_ENCRYPTION_KEYS   = var.token_encryption_keys
    CALLER_TOKEN_SECRET     = var.caller_token_secret
    EVENTS_SIGNING_SECRETS  = var.events_signing_secrets
  }
  # Only whether a secret was given is revealed (to choose which to write), never its value.
  key_vault_secrets_given = nonsensitive(toset([for k, v in local.key_vault_secret_values : k if v != ""]))
}

resource "azurerm_key_vault" "main" {
  name                          = "${local.abbrs.keyVaultVaults}${local.resource_token}"
  resource_group_name           = azurerm_resource_group.main.name
  location                      = azurerm_resource_group.main.location
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "standard"
  enable_rbac_authorization     = true
  soft_delete_retention_days    = 90
  purge_protection_enabled      = true
  public_network_access_enabled = true
  tags                          = local.tags
}

resource "azurerm_key_vault_secret" "app" {
  for_each = local.key_vault_secrets_given

  name         = local.key_vault_secret_names[each.key]
  value        = local.key_vault_secret_values[each.key]
  key_vault_id = azurerm_key_vault.main.id
  content_type = "text/plain"

  # The operator's Secrets Officer role must exist before the first write. Role propagation can
  # lag; if this fails with 403 on a fresh vault, run apply again.
  depends_on = [azurerm_role_assignment.operator_secrets_officer]
}
