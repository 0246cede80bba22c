// Service Bus namespace and the app's queues. SAS (local) auth is off: senders and receivers use
// Entra ID with the Data Sender / Data Receiver roles.
import { tagsType, queueType } from 'types.bicep'

param name string
param location string
param tags tagsType = {}

@allowed([
  'Standard'
  'Premium'
])
param skuName string = 'Standard'

@description('Queues: [{ name, maxDeliveryCount, lockDuration, defaultMessageTimeToLive, deadLetteringOnMessageExpiration, requiresDuplicateDetection, duplicateDetectionHistoryTimeWindow? }], from infra/app-entities.json.')
param queues queueType[]

param vnetEnabled bool = false

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    capacity: skuName == 'Premium' ? 1 : null
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
  }
}

resource namespaceQueues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for q in queues: {
    parent: namespace
    name: q.name
    properties: {
      maxDeliveryCount: q.maxDeliveryCount
      lockDuration: q.lockDuration
      defaultMessageTimeToLive: q.defaultMessageTimeToLive
      deadLetteringOnMessageExpiration: q.deadLetteringOnMessageExpiration
      requiresDuplicateDetection: q.requiresDuplicateDetection
      duplicateDetectionHistoryTimeWindow: q.?duplicateDetectionHistoryTimeWindow
      requiresSession: false
      enablePartitioning: false
    }
  }
]

output id string = namespace.id
output name string = namespace.name
// serviceBusEndpoint is https://<ns>.servicebus.<cloud suffix>:443/; the bindings want the bare host.
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '/')[2], ':')[0]
