// What operators watch (docs/operations.md): a workbook over the app's OpenTelemetry data and
// four log alert rules on the Application Insights component: Graph throttling rate, dead
// letters, sync falling behind, and authentication failures. Optional e-mail receiver.
// https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-create-log-alert-rule
param applicationInsightsName string
param location string
param tags object = {}
@description('E-mail address the alerts go to; empty for alerts shown in the portal only.')
param alertEmail string = ''

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-${applicationInsightsName}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'm365ops'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var alerts = [
  {
    name: 'graph-throttling'
    severity: 2
    description: 'More than 5% of Graph requests were throttled (429/503) in 15 minutes (at least 50 requests).'
    query: '''
dependencies
| where name startswith "graph "
| summarize total = count(), throttled = countif(tostring(customDimensions["m365.throttled"]) == "true")
| where total >= 50 and todouble(throttled) / total > 0.05
'''
  }
  {
    name: 'dead-letters'
    severity: 2
    description: 'Signed events were dead-lettered, or queue messages failed for good (poison).'
    query: '''
traces
| where message has "events_dead_lettered" or message has "-poison"
'''
  }
  {
    name: 'sync-behind'
    severity: 3
    description: 'Sync is falling behind: feeds went quiet or delta rounds keep failing, a round was saved more than 15 minutes after its change, or a queue holds work waiting over 15 minutes.'
    query: '''
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
'''
  }
  {
    name: 'auth-failures'
    severity: 1
    description: 'Microsoft rejected the app credentials (the client secret expired?), or many connections need a new sign-in.'
    query: '''
traces
| summarize credentials = countif(message has "app_credentials_invalid"), reauth = countif(message has "connection_reauth_required")
| where credentials > 0 or reauth >= 20
'''
  }
]

resource rules 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = [
  for alert in alerts: {
    name: '${alert.name}-${applicationInsightsName}'
    location: location
    tags: tags
    properties: {
      displayName: 'm365 ${alert.name}'
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [applicationInsights.id]
      evaluationFrequency: 'PT5M'
      windowSize: 'PT15M'
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      actions: {
        actionGroups: empty(alertEmail) ? [] : [actionGroup.id]
      }
      autoMitigate: true
    }
  }
]

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(applicationInsights.id, 'm365-operations-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'M365 integration: operations'
    category: 'workbook'
    sourceId: toLower(applicationInsights.id)
    serializedData: loadTextContent('operations-workbook.json')
  }
}

output alertRuleNames array = [for (alert, i) in alerts: rules[i].name]
