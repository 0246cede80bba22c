// Order-processing backend on Azure Functions Flex Consumption (FC1), deployed with `azd up`.
// Every data-plane connection uses one user-assigned identity: no keys, no connection strings
// with secrets, local auth disabled on every service that allows it.
targetScope = 'subscription'

import { durableBackends } from 'app/durable-backends.bicep'

@minLength(1)
@maxLength(64)
@description('azd environment name; seeds the unique resource names.')
param environmentName string

@minLength(1)
@description('Region for every resource. It must offer Flex Consumption: az functionapp list-flexconsumption-locations.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying user (azd sets AZURE_PRINCIPAL_ID). When set, that principal gets the data roles needed to run the app locally against these cloud resources. Empty: no user roles.')
param principalId string = ''

@description('Type of principalId: User for a person, ServicePrincipal for a CI identity.')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Put the app in a VNet and reach Storage, Cosmos DB and Service Bus only through private endpoints. Forces Service Bus Premium (private endpoints need it).')
param vnetEnabled bool = false

@description('Service Bus tier when the VNet is off. Standard is the cheapest tier with queues that support duplicate detection.')
@allowed([
  'Standard'
  'Premium'
])
param serviceBusSku string = 'Standard'

@description('Memory per Flex instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound on Flex scale-out.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Always-ready instances for the durable trigger group (orchestrators, activities, entities). The Durable docs advise 1 on Flex: an idle app scales to zero and the Azure Storage provider must poll its queues to wake up. 0 turns it off (cheaper, slower first orchestration step).')
@minValue(0)
@maxValue(20)
param durableAlwaysReadyInstances int = 1

@description('Durable Functions backend. durableTaskScheduler (default, as Microsoft\'s current Durable quickstart): a managed scheduler with a dashboard and higher throughput. azureStorage: queues and tables in the host storage account. In-flight instances do not move between backends (docs/deploy.md).')
@allowed([
  'durableTaskScheduler'
  'azureStorage'
])
param durableBackend string = 'durableTaskScheduler'

@description('Durable Task Scheduler SKU (durableTaskScheduler backend only).')
@allowed([
  'Consumption'
  'Dedicated'
])
param durableSchedulerSku string = 'Consumption'

@description('CIDR ranges allowed to reach the Durable Task Scheduler (durableTaskScheduler backend only). Callers still need an Entra token with a Durable Task role.')
param durableSchedulerIpAllowlist string[] = [
  '0.0.0.0/0'
]

@description('Application (client) id of the API\'s Entra app registration: the audience of access tokens (AUTH_AUDIENCE). The preprovision hook creates or reuses it (infra/scripts/entra-app.sh).')
param apiClientId string

@description('Durable task hub name (Azure Storage provider: 3-45 letters and digits, starting with a letter).')
@minLength(3)
@maxLength(45)
param taskHubName string = 'orderprocessing'

@description('Cosmos DB database the app uses (COSMOS_DATABASE_NAME).')
param cosmosDatabaseName string = 'orders'

@description('Orders whose total (minor units) reaches this need a human approval (APPROVAL_THRESHOLD_MINOR).')
param approvalThresholdMinor int = 100000

@description('ISO 8601 duration an order waits for approval before it is rejected (APPROVAL_TIMEOUT).')
param approvalTimeout string = 'PT24H'

@description('Also grant the app Azure Service Bus Data Owner. Off by default: Receiver + Sender cover the triggers and the sender. Owner only adds the Manage claim, which lets the scaler read exact queue lengths instead of falling back to the age of the oldest message.')
param serviceBusOwnerForScaling bool = false

@description('E-mail addresses the alerts\' action group notifies (failed orchestrations, dead-lettered notifications, rejected inbound messages, slow orders). Empty: alerts show in the portal only.')
param alertEmails string[] = []

@description('Alert when the 95th percentile of accept→finish exceeds this many seconds (15-minute window). Approvals wait up to approvalTimeout, so orders awaiting approval raise it too.')
@minValue(1)
param acceptToFinishP95Seconds int = 300

@description('Optional name of the resource group; default rg-<environmentName>.')
param resourceGroupName string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-api-${resourceToken}'
// Names known before deployment: modules that look resources up by name get these, not another
// module's output, so What-If can predict their resources (dependsOn keeps the order).
var storageAccountName = 'st${resourceToken}'
var serviceBusNamespaceName = 'sb-${resourceToken}'
var applicationInsightsName = 'appi-${resourceToken}'
// Flex reads the app package from this container with the app's identity.
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'
// Queues and containers live in one JSON file that the tests compare with the app's code.
var entities = loadJsonContent('app-entities.json')
var effectiveServiceBusSku = vnetEnabled ? 'Premium' : serviceBusSku
var durable = durableBackends[durableBackend]
var useDurableScheduler = durableBackend == 'durableTaskScheduler'
// Entra ID v2 authority of this tenant, in whichever cloud this deploys to.
var authAuthority = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity './app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring './app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: applicationInsightsName
    location: location
    tags: tags
  }
}

module alerts './app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    applicationInsightsName: applicationInsightsName
    location: location
    tags: tags
    alertEmails: alertEmails
    acceptToFinishP95Seconds: acceptToFinishP95Seconds
  }
  dependsOn: [
    monitoring
  ]
}

module storage './app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: storageAccountName
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    vnetEnabled: vnetEnabled
  }
}

module cosmos './app/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: 'cosmos-${resourceToken}'
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    containers: entities.cosmos.containers
    vnetEnabled: vnetEnabled
    dataContributors: concat(
      [identity.outputs.principalId],
      empty(principalId) ? [] : [principalId]
    )
  }
}

module serviceBus './app/servicebus.bicep' = {
  name: 'serviceBus'
  scope: rg
  params: {
    name: serviceBusNamespaceName
    location: location
    tags: tags
    skuName: effectiveServiceBusSku
    queues: entities.serviceBus.queues
    vnetEnabled: vnetEnabled
  }
}

module durableScheduler './app/durable-scheduler.bicep' = if (useDurableScheduler) {
  name: 'durableScheduler'
  scope: rg
  params: {
    name: 'dts-${resourceToken}'
    location: location
    tags: tags
    taskHubName: taskHubName
    skuName: durableSchedulerSku
    ipAllowlist: durableSchedulerIpAllowlist
    // Role assignment names hash the principal id (see rbac below).
    #disable-next-line what-if-short-circuiting
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module network './app/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: 'vnet-${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    cosmosAccountName: cosmos.outputs.name
    cosmosEndpoint: cosmos.outputs.endpoint
    serviceBusNamespaceName: serviceBus.outputs.name
    serviceBusHost: serviceBus.outputs.fullyQualifiedNamespace
  }
}

module rbac './app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    // Role assignment names hash the principal id, which exists only once the identity does;
    // What-If shows those assignments as "may change", nothing else.
    #disable-next-line what-if-short-circuiting
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
    storageAccountName: storageAccountName
    serviceBusNamespaceName: serviceBusNamespaceName
    applicationInsightsName: applicationInsightsName
    serviceBusOwnerForScaling: serviceBusOwnerForScaling
  }
  dependsOn: [
    storage
    serviceBus
    monitoring
  ]
}

module api './app/function.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: '${storage.outputs.blobEndpoint}${deploymentContainerName}'
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    durableAlwaysReadyInstances: durableAlwaysReadyInstances
    subnetId: network.?outputs.appSubnetId ?? ''
    appSettings: {
      ServiceBusConnection__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
      CosmosDBConnection__accountEndpoint: cosmos.outputs.endpoint
      COSMOS_DATABASE_NAME: cosmosDatabaseName
      TASKHUB_NAME: taskHubName
      APPROVAL_THRESHOLD_MINOR: string(approvalThresholdMinor)
      APPROVAL_TIMEOUT: approvalTimeout
      APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
      // The operator API links an order's trace to transaction search in this resource.
      APPLICATIONINSIGHTS_RESOURCE_ID: monitoring.outputs.applicationInsightsId
      // Parent-based trace-id ratio the worker's OpenTelemetry SDK samples with (README "host.json").
      OTEL_TRACES_SAMPLER_ARG: '1'
      AUTH_AUTHORITY: authAuthority
      AUTH_AUDIENCE: apiClientId
      // The console (/api/console/) signs in as a SPA on the API's own app registration, asking
      // for its delegated console scope (infra/scripts/entra-app.sh adds both).
      CONSOLE_CLIENT_ID: apiClientId
      CONSOLE_SCOPE: 'openid profile api://${apiClientId}/Orders.Console'
    }
    durableSettings: useDurableScheduler
      ? {
          '${durable.connectionStringName}': 'Endpoint=${durableScheduler.?outputs.endpoint ?? ''};Authentication=ManagedIdentity;ClientID=${identity.outputs.clientId}'
        }
      : {}
  }
  // The host starts as soon as the site exists: give it its data roles first. (The scheduler
  // module, with its role assignments, is already a dependency through durableSettings.)
  dependsOn: [
    rbac
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_FUNCTION_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output COSMOS_DATABASE_NAME string = cosmosDatabaseName
output SERVICE_BUS_FULLY_QUALIFIED_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output SERVICE_BUS_SKU string = effectiveServiceBusSku
output TASKHUB_NAME string = taskHubName
output DURABLE_BACKEND string = durableBackend
// The prepackage script writes this provider into the packaged host.json.
output DURABLE_STORAGE_PROVIDER string = durable.storageProviderType
output DURABLE_TASK_SCHEDULER_NAME string = durableScheduler.?outputs.name ?? ''
output DURABLE_TASK_SCHEDULER_ENDPOINT string = durableScheduler.?outputs.endpoint ?? ''
output AUTH_AUTHORITY string = authAuthority
output AUTH_AUDIENCE string = apiClientId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
