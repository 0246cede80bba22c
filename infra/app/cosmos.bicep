// Cosmos DB for NoSQL, serverless (pay per request, nothing at idle), keys disabled. The app has
// data-plane RBAC only, so the database and containers are created here, never by the app.
import { tagsType, containerType } from 'types.bicep'

param name string
param location string
param tags tagsType = {}
param databaseName string

@description('Containers: [{ name, partitionKey, defaultTtl? }], from infra/app-entities.json.')
param containers containerType[]

@description('Principal ids that get Cosmos DB Built-in Data Contributor on the account.')
param dataContributors string[]

param vnetEnabled bool = false

// Built-in "Cosmos DB Built-in Data Contributor": read/write items, run queries; no account or
// container management.
var dataContributorRoleId = '00000000-0000-0000-0000-000000000002'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for c in containers: {
    parent: database
    name: c.name
    properties: {
      resource: {
        id: c.name
        partitionKey: {
          paths: [
            c.partitionKey
          ]
          kind: 'Hash'
          version: 2
        }
        defaultTtl: c.?defaultTtl
      }
    }
  }
]

// One at a time, after the containers: SQL role assignments and container creation each take the
// account's exclusive lock, and parallel writes fail with a conflict.
@batchSize(1)
resource dataContributorAssignments 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = [
  for principalId in dataContributors: {
    parent: account
    name: guid(account.id, principalId, dataContributorRoleId)
    properties: {
      roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRoleId}'
      principalId: principalId
      scope: account.id
    }
    dependsOn: [
      sqlContainers
    ]
  }
]

output id string = account.id
output name string = account.name
output endpoint string = account.properties.documentEndpoint
