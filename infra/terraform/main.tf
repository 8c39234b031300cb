# Naming follows infra/abbreviations.json; the token makes names unique per subscription,
# environment and region, like azd's resourceToken (the values differ: use Bicep or Terraform for
# an environment, not both).
locals {
  resource_token = substr(sha1("${var.subscription_id}|${var.environment_name}|${var.location}"), 0, 13)
  abbrs          = jsondecode(file("${path.module}/../abbreviations.json"))
  tags           = merge(var.tags, { "azd-env-name" = var.environment_name })

  function_app_name         = "${local.abbrs.webSitesFunctions}api-${local.resource_token}"
  deployment_container_name = "app-package-${substr(local.function_app_name, 0, 32)}-${substr(local.resource_token, 0, 7)}"
  public_base_url           = var.public_base_url != "" ? var.public_base_url : "https://${local.function_app_name}.azurewebsites.net"
}

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "main" {
  name     = "${local.abbrs.resourcesResourceGroups}${var.environment_name}"
  location = var.location
  tags     = local.tags
}
