// Optional private networking: the app joins a delegated subnet and reaches Storage (blob, queue,
// table), Cosmos DB and Service Bus (Premium) through private endpoints with private DNS.
import { tagsType } from 'types.bicep'

param name string
param location string
param tags tagsType = {}
param storageAccountName string
param cosmosAccountName string
@description('Cosmos DB document endpoint (https://<account>.documents.<cloud suffix>:443/): its host names the private DNS zone.')
param cosmosEndpoint string
param serviceBusNamespaceName string
@description('Service Bus host (<namespace>.servicebus.<cloud suffix>): its suffix names the private DNS zone.')
param serviceBusHost string

param addressPrefix string = '10.0.0.0/16'
@description('Flex VNet integration subnet: one address per instance, so size it for maximumInstanceCount.')
param appSubnetPrefix string = '10.0.1.0/24'
param privateEndpointSubnetPrefix string = '10.0.2.0/24'

// Private DNS zones follow the cloud: storage from environment(), Cosmos DB and Service Bus (which
// environment() does not list) from the hosts the deployed resources report.
var cosmosHost = split(split(cosmosEndpoint, '/')[2], ':')[0]
var cosmosSuffix = substring(cosmosHost, indexOf(cosmosHost, '.documents.') + 1)
var serviceBusSuffix = substring(serviceBusHost, indexOf(serviceBusHost, '.servicebus.') + 1)

var endpoints = [
  {
    key: 'blob'
    groupId: 'blob'
    zone: 'privatelink.blob.${environment().suffixes.storage}'
    targetType: 'Microsoft.Storage/storageAccounts'
    targetName: storageAccountName
  }
  {
    key: 'queue'
    groupId: 'queue'
    zone: 'privatelink.queue.${environment().suffixes.storage}'
    targetType: 'Microsoft.Storage/storageAccounts'
    targetName: storageAccountName
  }
  {
    key: 'table'
    groupId: 'table'
    zone: 'privatelink.table.${environment().suffixes.storage}'
    targetType: 'Microsoft.Storage/storageAccounts'
    targetName: storageAccountName
  }
  {
    key: 'cosmos'
    groupId: 'Sql'
    zone: 'privatelink.${cosmosSuffix}'
    targetType: 'Microsoft.DocumentDB/databaseAccounts'
    targetName: cosmosAccountName
  }
  {
    key: 'servicebus'
    groupId: 'namespace'
    zone: 'privatelink.${serviceBusSuffix}'
    targetType: 'Microsoft.ServiceBus/namespaces'
    targetName: serviceBusNamespaceName
  }
]

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for e in endpoints: {
    name: e.zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (e, i) in endpoints: {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for e in endpoints: {
    name: 'pep-${e.key}-${uniqueString(e.targetName)}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: '${vnet.id}/subnets/private-endpoints'
      }
      privateLinkServiceConnections: [
        {
          name: e.key
          properties: {
            privateLinkServiceId: resourceId(e.targetType, e.targetName)
            groupIds: [
              e.groupId
            ]
          }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (e, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: e.key
          properties: {
            privateDnsZoneId: zones[i].id
          }
        }
      ]
    }
  }
]

output vnetId string = vnet.id
output appSubnetId string = '${vnet.id}/subnets/app'
output privateEndpointSubnetId string = '${vnet.id}/subnets/private-endpoints'
