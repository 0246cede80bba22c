// Durable Task Scheduler: the managed Durable backend (a scheduler and one task hub). The app and,
// when given, the deploying user (for the dashboard) get Durable Task Data Contributor on the
// task hub only. There are no keys: the app connects with its managed identity.
import { tagsType } from 'types.bicep'

@minLength(3)
@maxLength(64)
param name string
param location string
param tags tagsType = {}

@minLength(3)
@maxLength(64)
param taskHubName string

@description('Consumption: pay per action, no capacity to manage. Dedicated: reserved capacity units for steady high throughput.')
@allowed([
  'Consumption'
  'Dedicated'
])
param skuName string = 'Consumption'

@description('CIDR ranges allowed to reach the scheduler. An empty list denies everyone, so the default allows any address: the data plane still needs an Entra token with a Durable Task role.')
@minLength(1)
param ipAllowlist string[] = [
  '0.0.0.0/0'
]

param appPrincipalId string

@description('Deploying user (or CI principal) who gets dashboard access; empty for none.')
param userPrincipalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
param userPrincipalType string = 'User'

// Built-in "Durable Task Data Contributor": start, query and manage orchestrations in a task hub.
var durableTaskDataContributor = '0ad04412-c4d5-4796-b79c-f76d14c8d402'

resource scheduler 'Microsoft.DurableTask/schedulers@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: {
      name: skuName
    }
    ipAllowlist: ipAllowlist
    publicNetworkAccess: 'Enabled'
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2026-02-01' = {
  parent: scheduler
  name: taskHubName
}

resource appAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(taskHub.id, appPrincipalId, durableTaskDataContributor)
  scope: taskHub
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      durableTaskDataContributor
    )
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource userAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(taskHub.id, userPrincipalId, durableTaskDataContributor)
  scope: taskHub
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      durableTaskDataContributor
    )
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

output name string = scheduler.name
output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
