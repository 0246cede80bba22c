# azd preprovision hook (azure.yaml), Windows twin of register-providers.sh: registers
# Microsoft.App when VNET_ENABLED=true (Flex VNet integration) and Microsoft.DurableTask when
# DURABLE_BACKEND is unset or durableTaskScheduler (the default backend). A provider that is
# already Registered is skipped without a word.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$subscription = "$env:AZURE_SUBSCRIPTION_ID"
$subArgs = @()
if ($subscription) { $subArgs = @('--subscription', $subscription) }

function Register-Provider([string]$Namespace, [string]$Why) {
  $state = az provider show -n $Namespace @subArgs --query registrationState -o tsv
  if ($LASTEXITCODE -ne 0) { throw "register-providers: az provider show -n $Namespace failed (exit $LASTEXITCODE)" }
  if ("$state".Trim() -eq 'Registered') { return }
  Write-Host "register-providers: registering $Namespace (was $state; $Why), this can take a few minutes"
  az provider register --namespace $Namespace @subArgs --wait -o none
  if ($LASTEXITCODE -ne 0) { throw "register-providers: az provider register --namespace $Namespace failed (exit $LASTEXITCODE)" }
  Write-Host "register-providers: $Namespace registered"
}

if ("$env:VNET_ENABLED" -ieq 'true') {
  Register-Provider 'Microsoft.App' 'VNET_ENABLED=true: Flex VNet integration'
}
if (-not "$env:DURABLE_BACKEND" -or "$env:DURABLE_BACKEND" -ceq 'durableTaskScheduler') {
  Register-Provider 'Microsoft.DurableTask' 'Durable Task Scheduler backend'
}
