# Log Analytics + workspace-based Application Insights with local auth off: the app ingests
# with its managed identity (Monitoring Metrics Publisher, main.identity.tf).
# https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication
resource "azurerm_log_analytics_workspace" "main" {
  name                = "${local.abbrs.operationalInsightsWorkspaces}${local.resource_token}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  sku                 = "PerGB2018"
  retention_in_days   = 30
  tags                = local.tags
}

resource "azurerm_application_insights" "main" {
  name                          = "${local.abbrs.insightsComponents}${local.resource_token}"
  resource_group_name           = azurerm_resource_group.main.name
  location                      = azurerm_resource_group.main.location
  workspace_id                  = azurerm_log_analytics_workspace.main.id
  application_type              = "web"
  local_authentication_disabled = true
  tags                          = local.tags
}
