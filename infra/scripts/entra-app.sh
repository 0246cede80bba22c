#!/bin/sh
# azd preprovision hook (azure.yaml): creates or reuses the API's Entra app registration and
# records its application (client) id as AUTH_API_CLIENT_ID in the azd environment. main.bicep
# takes it as apiClientId and sets AUTH_AUDIENCE to it.
#
# - AUTH_API_CLIENT_ID already set: reuse it and call nothing, so a pipeline principal without
#   directory rights succeeds.
# - Otherwise: find the app named order-processing-api-<AZURE_ENV_NAME> (create it if there is
#   none), apply infra/entra/api-app.json (app roles, the delegated scope, access token v2) with
#   Microsoft Graph, set identifierUris to api://<appId>, create its service principal if missing,
#   then `azd env set AUTH_API_CLIENT_ID <appId>`.
# - The console (/api/console/) signs in on this registration as a single-page application
#   (authorization code + PKCE, no secret) with the delegated scope Orders.Console: its SPA
#   redirect URIs get http://localhost:7071/api/console/ and, once the app exists,
#   <SERVICE_API_URI>/api/console/ (azd's output; this script also runs as postprovision hook
#   so the first `azd up` registers it), added to the URIs already there. With
#   AUTH_API_CLIENT_ID set, that is the only directory change, made only when the URI is
#   missing; without directory rights it warns and prints the command instead of failing.
#
# Idempotent: a rerun finds the app by name and applies the same manifest. No client secret is
# created and no token is printed. Windows twin: entra-app.ps1 (reads the same manifest).
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
manifest="$here/../entra/api-app.json"
log() { echo "entra-app: $*"; }
fail() {
  echo "entra-app: $*" >&2
  exit 1
}
# Directory writes are eventually consistent: a just-created app can be briefly invisible.
retry() {
  n=1
  until "$@"; do
    [ "$n" -ge 4 ] && return 1
    n=$((n + 1))
    sleep "${ENTRA_RETRY_SLEEP:-5}"
  done
}

[ -f "$manifest" ] || fail "manifest $manifest is missing"

local_console="http://localhost:7071/api/console/"
deployed_console=""
if [ -n "${SERVICE_API_URI:-}" ]; then
  printf '%s\n' "$SERVICE_API_URI" | grep -Eq '^https://[A-Za-z0-9.-]+(:[0-9]+)?/?$' ||
    fail "SERVICE_API_URI must be the app's https origin, got '$SERVICE_API_URI'"
  deployed_console="${SERVICE_API_URI%/}/api/console/"
fi

# console_redirects <objectId> <uri>...: the SPA redirect URIs become the ones there plus these.
console_redirects() {
  target=$1
  shift
  existing=$(az ad app show --id "$target" --query "spa.redirectUris" -o tsv) || return 1
  # shellcheck disable=SC2086 # one URI per word
  uris=$(printf '%s\n' $existing "$@" | grep . | LC_ALL=C sort -u)
  body=$(printf '%s\n' "$uris" | sed 's/.*/"&"/' | paste -sd, -)
  retry az rest --method PATCH --uri "${graph%/}/v1.0/applications/$target" \
    --headers "Content-Type=application/json" --body "{\"spa\":{\"redirectUris\":[$body]}}" -o none ||
    return 1
  log "console SPA redirect URIs: $(printf '%s' "$uris" | paste -sd' ' -)"
}

if [ -n "${AUTH_API_CLIENT_ID:-}" ]; then
  printf '%s\n' "$AUTH_API_CLIENT_ID" | grep -Eq '^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$' ||
    fail "AUTH_API_CLIENT_ID must be an application (client) id (a GUID), got '$AUTH_API_CLIENT_ID'"
  if [ -z "$deployed_console" ]; then
    log "AUTH_API_CLIENT_ID is set ($AUTH_API_CLIENT_ID): reusing that app registration, no directory changes"
    exit 0
  fi
  log "AUTH_API_CLIENT_ID is set ($AUTH_API_CLIENT_ID): reusing that app registration"
  if registered=$(az ad app show --id "$AUTH_API_CLIENT_ID" --query "spa.redirectUris" -o tsv 2>/dev/null) &&
    printf '%s\n' "$registered" | grep -qxF "$deployed_console"; then
    log "console redirect URI $deployed_console is registered, no directory changes"
    exit 0
  fi
  graph=$(az cloud show --query endpoints.microsoftGraphResourceId -o tsv)
  object_id=$(az ad app show --id "$AUTH_API_CLIENT_ID" --query id -o tsv 2>/dev/null) &&
    console_redirects "$object_id" "$local_console" "$deployed_console" 2>/dev/null ||
    log "warning: could not add the console redirect URI (no directory rights?): have an administrator add $deployed_console as a single-page application redirect URI of app $AUTH_API_CLIENT_ID"
  exit 0
fi

[ -n "${AZURE_ENV_NAME:-}" ] || fail "AZURE_ENV_NAME is not set: run this through azd (azd provision / azd up)"
name="order-processing-api-$AZURE_ENV_NAME"

# az ad works in the Azure CLI's current tenant; the app must live in the subscription's tenant,
# the one main.bicep puts into AUTH_AUTHORITY.
if [ -n "${AZURE_SUBSCRIPTION_ID:-}" ]; then
  sub_tenant=$(az account show --subscription "$AZURE_SUBSCRIPTION_ID" --query tenantId -o tsv)
  cli_tenant=$(az account show --query tenantId -o tsv)
  [ "$sub_tenant" = "$cli_tenant" ] ||
    fail "the Azure CLI is signed in to tenant $cli_tenant, subscription $AZURE_SUBSCRIPTION_ID is in $sub_tenant: run az login --tenant $sub_tenant"
fi

found=$(az ad app list --filter "displayName eq '$name'" --query "[].[appId,id]" -o tsv)
count=$(printf '%s' "$found" | grep -c . || true)
if [ "$count" -gt 1 ]; then
  fail "$count app registrations are named $name: delete the extra ones or run azd env set AUTH_API_CLIENT_ID <appId>"
elif [ "$count" -eq 1 ]; then
  # shellcheck disable=SC2086 # split "appId<TAB>objectId"
  set -- $found
  app_id=${1:-} object_id=${2:-}
  log "found app registration $name (appId $app_id)"
else
  created=$(az ad app create --display-name "$name" --sign-in-audience AzureADMyOrg --query "[appId,id]" -o tsv)
  # shellcheck disable=SC2086 # split "appId<TAB>objectId"
  set -- $created
  app_id=${1:-} object_id=${2:-}
  [ -n "$object_id" ] || fail "az ad app create returned no ids for $name"
  log "created app registration $name (appId $app_id)"
fi

graph=$(az cloud show --query endpoints.microsoftGraphResourceId -o tsv)
retry az rest --method PATCH --uri "${graph%/}/v1.0/applications/$object_id" \
  --headers "Content-Type=application/json" --body "@$manifest" -o none
log "applied $(basename "$manifest"): app roles Orders.Submit, Orders.Approve, Orders.Operate; scopes Orders.ReadWrite, Orders.Console; access token v2"

retry az ad app update --id "$app_id" --identifier-uris "api://$app_id" -o none
log "identifier URI api://$app_id"

# shellcheck disable=SC2086 # $deployed_console is empty or one URI
console_redirects "$object_id" "$local_console" $deployed_console ||
  fail "could not set the console's SPA redirect URIs on $name"

if az ad sp show --id "$app_id" --query id -o tsv >/dev/null 2>&1; then
  log "service principal exists"
else
  retry az ad sp create --id "$app_id" --query id -o tsv >/dev/null
  log "created service principal"
fi

azd env set AUTH_API_CLIENT_ID "$app_id"
log "azd env set AUTH_API_CLIENT_ID $app_id"
