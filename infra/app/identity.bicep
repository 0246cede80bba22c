// The one identity the function app uses for every data-plane call (host, bindings, SDK clients).
import { tagsType } from 'types.bicep'

param name string
param location string
param tags tagsType = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
