// Optional private networking: the app joins a delegated subnet and reaches Storage (blob, queue,
// table), Cosmos DB and Service Bus (Premium) through private endpoints with private DNS.
param name string
param location string
param tags object = {}
param storageAccountId string
param cosmosAccountId string
param serviceBusNamespaceId string

param addressPrefix string = '10.0.0.0/16'
@description('Flex VNet integration subnet: one address per instance, so size it for maximumInstanceCount.')
param appSubnetPrefix string = '10.0.1.0/24'
param privateEndpointSubnetPrefix string = '10.0.2.0/24'

var endpoints = [
  {
    key: 'blob'
    groupId: 'blob'
    zone: 'privatelink.blob.${environment().suffixes.storage}'
    target: 'storage'
  }
  {
    key: 'queue'
    groupId: 'queue'
    zone: 'privatelink.queue.${environment().suffixes.storage}'
    target: 'storage'
  }
  {
    key: 'table'
    groupId: 'table'
    zone: 'privatelink.table.${environment().suffixes.storage}'
    target: 'storage'
  }
  {
    key: 'cosmos'
    groupId: 'Sql'
    zone: 'privatelink.documents.azure.com'
    target: 'cosmos'
  }
  {
    key: 'servicebus'
    groupId: 'namespace'
    zone: 'privatelink.servicebus.windows.net'
    target: 'servicebus'
  }
]
var targetIds = {
  storage: storageAccountId
  cosmos: cosmosAccountId
  servicebus: serviceBusNamespaceId
}

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
    name: 'pep-${e.key}-${uniqueString(targetIds[e.target])}'
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
            privateLinkServiceId: targetIds[e.target]
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
