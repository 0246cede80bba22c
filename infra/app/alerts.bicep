// Alerts on the app's OpenTelemetry signals in Application Insights, sent to one action group.
// The counters arrive in customMetrics (Azure Monitor OpenTelemetry exporter); percentiles are
// not kept for exported histograms, so the accept→finish p95 is computed from the
// `order.finished` log entries (traces table), which carry the same duration in durationMs.
import { tagsType } from 'types.bicep'

param applicationInsightsName string
param location string
param tags tagsType = {}

@minLength(1)
@maxLength(12)
@description('Short name of the action group (shown in SMS and e-mail).')
param actionGroupShortName string = 'orders-ops'

@description('E-mail addresses the action group notifies. Empty: the alerts still fire and show in the portal.')
param alertEmails string[] = []

@description('Alert when more orchestrations than this fail in a window.')
@minValue(0)
param failedOrchestrationsThreshold int = 0

@description('Alert when more notifications than this are dead-lettered in a window.')
@minValue(0)
param deadLetteredNotificationsThreshold int = 0

@description('Alert when more inbound messages than this are rejected in a window.')
@minValue(0)
param rejectedInboundThreshold int = 5

@description('Alert when the 95th percentile of accept→finish exceeds this many seconds in a window.')
@minValue(1)
param acceptToFinishP95Seconds int = 300

@description('ISO 8601 window each alert evaluates (also its evaluation frequency).')
@allowed([
  'PT5M'
  'PT15M'
  'PT30M'
  'PT1H'
])
param window string = 'PT15M'

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${applicationInsightsName}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: actionGroupShortName
    enabled: true
    emailReceivers: [
      for (address, i) in alertEmails: {
        name: 'email-${i}'
        emailAddress: address
        useCommonAlertSchema: true
      }
    ]
  }
}

// One counter (or the p95) per alert: the query returns one number, `value`, the rule compares it.
var rules = [
  {
    name: 'failed-orchestrations'
    description: 'Orchestrations that ended Failed (orders.finished with order.outcome = failed).'
    severity: 1
    threshold: failedOrchestrationsThreshold
    query: 'customMetrics | where name == "orders.finished" and tostring(customDimensions["order.outcome"]) == "failed" | summarize value = sum(valueSum)'
  }
  {
    name: 'dead-lettered-notifications'
    description: 'Notifications moved to the dead-letter queue (notifications.dead_lettered).'
    severity: 2
    threshold: deadLetteredNotificationsThreshold
    query: 'customMetrics | where name == "notifications.dead_lettered" | summarize value = sum(valueSum)'
  }
  {
    name: 'rejected-inbound-messages'
    description: 'orders-inbound messages rejected as invalid (inbound.rejected).'
    severity: 3
    threshold: rejectedInboundThreshold
    query: 'customMetrics | where name == "inbound.rejected" | summarize value = sum(valueSum)'
  }
  {
    name: 'accept-to-finish-p95'
    description: '95th percentile of the time from accepting an order to its final status, in seconds.'
    severity: 2
    threshold: acceptToFinishP95Seconds
    query: 'traces | where message has "\\"event\\":\\"order.finished\\"" | extend d = todouble(parse_json(message).durationMs) | where isnotnull(d) | summarize value = percentile(d, 95) / 1000.0'
  }
]

resource alerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: '${rule.name}-${applicationInsightsName}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: rule.name
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        applicationInsights.id
      ]
      evaluationFrequency: window
      windowSize: window
      autoMitigate: true
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Maximum'
            metricMeasureColumn: 'value'
            operator: 'GreaterThan'
            threshold: rule.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      actions: {
        actionGroups: [
          actionGroup.id
        ]
      }
    }
  }
]

output actionGroupId string = actionGroup.id
output alertNames string[] = [for (rule, i) in rules: alerts[i].name]
