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

# What operators watch (docs/operations.md): a workbook over the app's OpenTelemetry data and four
# log alert rules on the Application Insights component, the same as infra/core/monitor/operations.bicep.
# https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-create-log-alert-rule
locals {
  operations_alerts = {
    "graph-throttling" = {
      severity    = 2
      description = "More than 5% of Graph requests were throttled (429/503) in 15 minutes (at least 50 requests)."
      query       = <<-KQL
        dependencies
        | where name startswith "graph "
        | summarize total = count(), throttled = countif(tostring(customDimensions["m365.throttled"]) == "true")
        | where total >= 50 and todouble(throttled) / total > 0.05
      KQL
    }
    "dead-letters" = {
      severity    = 2
      description = "Signed events were dead-lettered, or queue messages failed for good (poison)."
      query       = <<-KQL
        traces
        | where message has "events_dead_lettered" or message has "-poison"
      KQL
    }
    "sync-behind" = {
      severity    = 3
      description = "Sync is falling behind: feeds went quiet or delta rounds keep failing, a round was saved more than 15 minutes after its change, or a queue holds work waiting over 15 minutes."
      query       = <<-KQL
        union
          (union
            (traces | where message has "feed_degraded" or message has "feed_recovery_failed"),
            (requests | where name == "syncWorker" and success == false)
          | summarize n = count()
          | where n >= 10),
          (customMetrics | where name == "m365.sync.lag_ms" | summarize worst = max(valueMax) | where worst > 900000),
          (customMetrics
          | where name == "m365.queue.oldest_age_s" and not(tostring(customDimensions["messaging.destination.name"]) endswith "-poison")
          | summarize oldest = max(valueMax)
          | where oldest > 900)
      KQL
    }
    "auth-failures" = {
      severity    = 1
      description = "Microsoft rejected the app credentials (the client secret expired?), or many connections need a new sign-in."
      query       = <<-KQL
        traces
        | summarize credentials = countif(message has "app_credentials_invalid"), reauth = countif(message has "connection_reauth_required")
        | where credentials > 0 or reauth >= 20
      KQL
    }
  }
}

resource "azurerm_monitor_action_group" "operations" {
  count               = var.alert_email == "" ? 0 : 1
  name                = "ag-${azurerm_application_insights.main.name}"
  resource_group_name = azurerm_resource_group.main.name
  short_name          = "m365ops"
  tags                = local.tags

  email_receiver {
    name                    = "operators"
    email_address           = var.alert_email
    use_common_alert_schema = true
  }
}

resource "azurerm_monitor_scheduled_query_rules_alert_v2" "operations" {
  for_each                = local.operations_alerts
  name                    = "${each.key}-${azurerm_application_insights.main.name}"
  resource_group_name     = azurerm_resource_group.main.name
  location                = azurerm_resource_group.main.location
  display_name            = "m365 ${each.key}"
  description             = each.value.description
  severity                = each.value.severity
  scopes                  = [azurerm_application_insights.main.id]
  evaluation_frequency    = "PT5M"
  window_duration         = "PT15M"
  auto_mitigation_enabled = true
  tags                    = local.tags

  criteria {
    query                   = each.value.query
    time_aggregation_method = "Count"
    operator                = "GreaterThan"
    threshold               = 0

    failing_periods {
      number_of_evaluation_periods             = 1
      minimum_failing_periods_to_trigger_alert = 1
    }
  }

  dynamic "action" {
    for_each = azurerm_monitor_action_group.operations
    content {
      action_groups = [action.value.id]
    }
  }
}

resource "azurerm_application_insights_workbook" "operations" {
  name                = uuidv5("url", "${azurerm_application_insights.main.id}/m365-operations-workbook")
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  display_name        = "M365 integration: operations"
  source_id           = lower(azurerm_application_insights.main.id)
  data_json           = file("${path.module}/../core/monitor/operations-workbook.json")
  tags                = local.tags
}
