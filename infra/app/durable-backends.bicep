// What each Durable backend puts into the deployed host.json. The scale controller reads the
// provider from the packaged host.json, so the provider is never switched by an app setting:
// main.bicep outputs the chosen one, azd keeps it in the environment and the prepackage script
// (infra/scripts/stage-package.mjs) writes it into the package.

@export()
@description('Per backend: host.json extensions.durableTask.storageProvider type and the app setting holding its connection (empty: the host storage connection).')
var durableBackends = {
  durableTaskScheduler: {
    storageProviderType: 'azureManaged'
    connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
  }
  azureStorage: {
    storageProviderType: 'AzureStorage'
    connectionStringName: ''
  }
}
