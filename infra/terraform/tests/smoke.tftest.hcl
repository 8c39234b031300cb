# `terraform test` smoke test: plans against mocked providers (no Azure credentials, no
# resources). Needs the providers installed (`terraform init`), so it runs where the registry is
# reachable (scripts/infra-validate.mjs); the offline checks are in test/unit/infra.test.ts.
mock_provider "azurerm" {
  mock_data "azurerm_client_config" {
    defaults = {
      tenant_id       = "11111111-1111-1111-1111-111111111111"
      object_id       = "22222222-2222-2222-2222-222222222222"
      client_id       = "33333333-3333-3333-3333-333333333333"
      subscription_id = "00000000-0000-0000-0000-000000000000"
    }
  }
}

mock_provider "azapi" {}

variables {
  subscription_id       = "00000000-0000-0000-0000-000000000000"
  environment_name      = "smoke"
  location              = "westeurope"
  microsoft_client_id   = "44444444-4444-4444-4444-444444444444"
  caller_token_issuer   = "https://platform.example.test"
  caller_token_audience = "m365-integration"
  return_url_allowlist  = "https://app.example.test/"
}

run "plans_a_flex_consumption_node_22_app" {
  command = plan

  assert {
    condition     = azurerm_function_app_flex_consumption.api.runtime_name == "node" && azurerm_function_app_flex_consumption.api.runtime_version == "22"
    error_message = "The app must run Node 22 on Flex Consumption."
  }

  assert {
    condition     = azurerm_service_plan.main.sku_name == "FC1"
    error_message = "The plan must be Flex Consumption (FC1)."
  }

  assert {
    condition     = azurerm_storage_account.main.shared_access_key_enabled == false
    error_message = "Shared-key access must be off."
  }

  assert {
    condition     = azurerm_key_vault.main.enable_rbac_authorization && azurerm_key_vault.main.purge_protection_enabled
    error_message = "Key Vault must be in RBAC mode with purge protection."
  }

  assert {
    condition     = length(setintersection(keys(azurerm_function_app_flex_consumption.api.app_settings), ["MICROSOFT_CLIENT_SECRET", "TOKEN_ENCRYPTION_KEYS", "CALLER_TOKEN_SECRET"])) == 0
    error_message = "No secret may be an app setting."
  }

  assert {
    condition     = length(azurerm_role_assignment.app) == 5
    error_message = "The app identity needs exactly five role assignments."
  }

  assert {
    condition     = can(regex("^https://func-api-[0-9a-f]{13}\\.azurewebsites\\.net/api/auth/microsoft/callback$", output.microsoft_redirect_uri))
    error_message = "The redirect URI must be the app's callback route."
  }

  assert {
    condition     = length(azurerm_key_vault_secret.app) == 0
    error_message = "No secret is written to Key Vault unless one is given."
  }
}

run "writes_given_secrets_to_key_vault" {
  command = plan

  variables {
    token_encryption_keys = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    caller_token_secret   = "0123456789abcdef0123456789abcdef"
  }

  assert {
    condition     = toset(keys(azurerm_key_vault_secret.app)) == toset(["TOKEN_ENCRYPTION_KEYS", "CALLER_TOKEN_SECRET"])
    error_message = "Given secrets go to Key Vault, and only those."
  }
}

run "rejects_a_malformed_token_key" {
  command = plan

  variables {
    token_encryption_keys = "k1:not-32-bytes"
  }

  expect_failures = [var.token_encryption_keys]
}
