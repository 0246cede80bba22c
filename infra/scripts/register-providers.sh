#!/bin/sh
# azd preprovision hook (azure.yaml): registers the resource providers this template needs and a
# subscription may not have yet. Microsoft.App: Flex Consumption VNet integration delegates the
# app subnet to Microsoft.App/environments (VNET_ENABLED=true only). Microsoft.DurableTask: the
# Durable Task Scheduler (DURABLE_BACKEND unset or durableTaskScheduler, the default backend).
# A provider that is already Registered is skipped without a word. Windows: register-providers.ps1.
set -eu

subscription="${AZURE_SUBSCRIPTION_ID:-}"

register() {
  if [ -n "$subscription" ]; then
    state=$(az provider show -n "$1" --subscription "$subscription" --query registrationState -o tsv)
  else
    state=$(az provider show -n "$1" --query registrationState -o tsv)
  fi
  [ "$state" = "Registered" ] && return 0
  echo "register-providers: registering $1 (was ${state:-unknown}; $2), this can take a few minutes"
  if [ -n "$subscription" ]; then
    az provider register --namespace "$1" --subscription "$subscription" --wait -o none
  else
    az provider register --namespace "$1" --wait -o none
  fi
  echo "register-providers: $1 registered"
}

case "${VNET_ENABLED:-false}" in
  true | True | TRUE) register Microsoft.App "VNET_ENABLED=true: Flex VNet integration" ;;
esac

case "${DURABLE_BACKEND:-}" in
  "" | durableTaskScheduler) register Microsoft.DurableTask "Durable Task Scheduler backend" ;;
esac
