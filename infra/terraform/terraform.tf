# Provider pins (style.md 25). azurerm 4.x has azurerm_function_app_flex_consumption; azapi creates
# the tables and queues through Resource Manager, because shared-key access is off and azurerm's
# 4.x table/queue resources still talk to the data plane.
terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.40"
    }
    azapi = {
      source  = "Azure/azapi"
      version = "~> 2.5"
    }
  }
}

provider "azurerm" {
  subscription_id = var.subscription_id
  # Shared keys are disabled on the storage account: the provider must use Entra ID for any
  # storage data-plane read it does while refreshing the account.
  storage_use_azuread = true

  features {
    key_vault {
      # Purge protection is on; a destroyed vault stays recoverable for its retention period.
      purge_soft_delete_on_destroy    = false
      recover_soft_deleted_key_vaults = true
      recover_soft_deleted_secrets    = true
    }
    resource_group {
      prevent_deletion_if_contains_resources = true
    }
  }
}

provider "azapi" {
  subscription_id = var.subscription_id
}
