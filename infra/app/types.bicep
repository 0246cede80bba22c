// Shared parameter types: modules take these instead of bare object/array, so a wrong shape is a
// compile error, not a failed deployment.

@export()
@description('Resource tags: name → value.')
type tagsType = {
  *: string
}

@export()
@description('App settings: name → value (never a secret).')
type appSettingsType = {
  *: string
}

@export()
@description('A Cosmos DB SQL container (infra/app-entities.json).')
type containerType = {
  name: string
  partitionKey: string
  @description('Seconds after its last write that Cosmos deletes an item (the retention); absent = kept.')
  defaultTtl: int?
}

@export()
@description('A Service Bus queue (infra/app-entities.json).')
type queueType = {
  name: string
  maxDeliveryCount: int
  lockDuration: string
  defaultMessageTimeToLive: string
  deadLetteringOnMessageExpiration: bool
  requiresDuplicateDetection: bool
  duplicateDetectionHistoryTimeWindow: string?
}
