# azd preprovision hook (azure.yaml), Windows twin of entra-app.sh: creates or reuses the API's
# Entra app registration and records its application (client) id as AUTH_API_CLIENT_ID.
# AUTH_API_CLIENT_ID already set: reuse it and call nothing (no directory rights needed).
# Otherwise find or create order-processing-api-<AZURE_ENV_NAME>, apply ../entra/api-app.json
# (the same manifest the sh script applies) with Microsoft Graph, set identifierUris to
# api://<appId>, create the service principal if missing, then azd env set AUTH_API_CLIENT_ID.
# The console (/api/console/) signs in on this registration as a single-page application (code +
# PKCE, scope Orders.Console): its SPA redirect URIs get http://localhost:7071/api/console/ and,
# once provisioned, <SERVICE_API_URI>/api/console/ (also run as postprovision hook), added to those
# already there. With AUTH_API_CLIENT_ID set that is the only directory change, made only when the
# URI is missing; without directory rights it warns instead of failing.
# Idempotent; no client secret is created and no token is printed.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$manifest = Join-Path $PSScriptRoot '..' 'entra' 'api-app.json'
function Log([string]$Message) { Write-Host "entra-app: $Message" }
function Fail([string]$Message) { [Console]::Error.WriteLine("entra-app: $Message"); exit 1 }
# Runs the az CLI and returns its output lines; fails on a non-zero exit. (Not named Az: PowerShell
# names are case-insensitive, so a function Az would shadow az and call itself.)
function Invoke-Az {
  $out = & az @args
  if ($LASTEXITCODE -ne 0) { Fail "az $($args[0..2] -join ' ') failed (exit $LASTEXITCODE)" }
  return $out
}
# Directory writes are eventually consistent: a just-created app can be briefly invisible.
function Invoke-AzRetry {
  $sleep = if ($env:ENTRA_RETRY_SLEEP) { [int]$env:ENTRA_RETRY_SLEEP } else { 5 }
  for ($n = 1; ; $n++) {
    $out = & az @args
    if ($LASTEXITCODE -eq 0) { return $out }
    if ($n -ge 4) { Fail "az $($args[0..2] -join ' ') failed (exit $LASTEXITCODE)" }
    Start-Sleep -Seconds $sleep
  }
}

if (-not (Test-Path $manifest)) { Fail "manifest $manifest is missing" }

$localConsole = 'http://localhost:7071/api/console/'
$deployedConsole = $null
if ($env:SERVICE_API_URI) {
  if ($env:SERVICE_API_URI -notmatch '^https://[A-Za-z0-9.-]+(:[0-9]+)?/?$') {
    Fail "SERVICE_API_URI must be the app's https origin, got '$env:SERVICE_API_URI'"
  }
  $deployedConsole = "$($env:SERVICE_API_URI.TrimEnd('/'))/api/console/"
}

# The SPA redirect URIs become the ones there plus $Uris (sorted ordinally, as the sh twin).
function Set-ConsoleRedirects([string]$Target, [string[]]$Uris) {
  $existing = @(& az ad app show --id $Target --query 'spa.redirectUris' -o tsv)
  if ($LASTEXITCODE -ne 0) { return $false }
  $all = [string[]]@(@($existing) + $Uris | Where-Object { "$_".Trim() } | ForEach-Object { "$_".Trim() } | Select-Object -Unique)
  [Array]::Sort($all, [StringComparer]::Ordinal)
  $body = @{ spa = @{ redirectUris = $all } } | ConvertTo-Json -Compress -Depth 4
  $file = New-TemporaryFile
  try {
    Set-Content -Path $file -Value $body -NoNewline
    & az rest --method PATCH --uri "$graph/v1.0/applications/$Target" --headers 'Content-Type=application/json' --body "@$file" -o none
    if ($LASTEXITCODE -ne 0) { return $false }
  } finally { Remove-Item $file -ErrorAction SilentlyContinue }
  Log "console SPA redirect URIs: $($all -join ' ')"
  return $true
}

if ($env:AUTH_API_CLIENT_ID) {
  if ($env:AUTH_API_CLIENT_ID -notmatch '^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$') {
    Fail "AUTH_API_CLIENT_ID must be an application (client) id (a GUID), got '$env:AUTH_API_CLIENT_ID'"
  }
  if (-not $deployedConsole) {
    Log "AUTH_API_CLIENT_ID is set ($env:AUTH_API_CLIENT_ID): reusing that app registration, no directory changes"
    exit 0
  }
  Log "AUTH_API_CLIENT_ID is set ($env:AUTH_API_CLIENT_ID): reusing that app registration"
  $registered = @(& az ad app show --id $env:AUTH_API_CLIENT_ID --query 'spa.redirectUris' -o tsv 2>$null)
  if ($LASTEXITCODE -eq 0 -and ($registered | ForEach-Object { "$_".Trim() }) -contains $deployedConsole) {
    Log "console redirect URI $deployedConsole is registered, no directory changes"
    exit 0
  }
  $graph = (& az cloud show --query endpoints.microsoftGraphResourceId -o tsv).Trim().TrimEnd('/')
  $objectId = (& az ad app show --id $env:AUTH_API_CLIENT_ID --query id -o tsv 2>$null)
  if ($LASTEXITCODE -ne 0 -or -not (Set-ConsoleRedirects "$objectId".Trim() @($localConsole, $deployedConsole))) {
    Log "warning: could not add the console redirect URI (no directory rights?): have an administrator add $deployedConsole as a single-page application redirect URI of app $env:AUTH_API_CLIENT_ID"
  }
  exit 0
}

if (-not $env:AZURE_ENV_NAME) { Fail 'AZURE_ENV_NAME is not set: run this through azd (azd provision / azd up)' }
$name = "order-processing-api-$env:AZURE_ENV_NAME"

# az ad works in the Azure CLI's current tenant; the app must live in the subscription's tenant.
if ($env:AZURE_SUBSCRIPTION_ID) {
  $subTenant = Invoke-Az account show --subscription $env:AZURE_SUBSCRIPTION_ID --query tenantId -o tsv
  $cliTenant = Invoke-Az account show --query tenantId -o tsv
  if ("$subTenant".Trim() -ne "$cliTenant".Trim()) {
    Fail "the Azure CLI is signed in to tenant $cliTenant, subscription $env:AZURE_SUBSCRIPTION_ID is in ${subTenant}: run az login --tenant $subTenant"
  }
}

$found = @(Invoke-Az ad app list --filter "displayName eq '$name'" --query '[].[appId,id]' -o tsv | Where-Object { "$_".Trim() })
if ($found.Count -gt 1) {
  Fail "$($found.Count) app registrations are named ${name}: delete the extra ones or run azd env set AUTH_API_CLIENT_ID <appId>"
} elseif ($found.Count -eq 1) {
  $appId, $objectId = "$($found[0])".Trim() -split '\s+'
  Log "found app registration $name (appId $appId)"
} else {
  $created = Invoke-Az ad app create --display-name $name --sign-in-audience AzureADMyOrg --query '[appId,id]' -o tsv
  $appId, $objectId = "$created".Trim() -split '\s+'
  if (-not $objectId) { Fail "az ad app create returned no ids for $name" }
  Log "created app registration $name (appId $appId)"
}

$graph = (Invoke-Az cloud show --query endpoints.microsoftGraphResourceId -o tsv).Trim().TrimEnd('/')
Invoke-AzRetry rest --method PATCH --uri "$graph/v1.0/applications/$objectId" --headers 'Content-Type=application/json' --body "@$manifest" -o none | Out-Null
Log 'applied api-app.json: app roles Orders.Submit, Orders.Approve, Orders.Operate; scopes Orders.ReadWrite, Orders.Console; access token v2'

Invoke-AzRetry ad app update --id $appId --identifier-uris "api://$appId" -o none | Out-Null
Log "identifier URI api://$appId"

$consoleUris = @($localConsole) + @($deployedConsole | Where-Object { $_ })
if (-not (Set-ConsoleRedirects $objectId $consoleUris)) { Fail "could not set the console's SPA redirect URIs on $name" }

& az ad sp show --id $appId --query id -o tsv 2>$null | Out-Null
if ($LASTEXITCODE -eq 0) {
  Log 'service principal exists'
} else {
  Invoke-AzRetry ad sp create --id $appId --query id -o tsv | Out-Null
  Log 'created service principal'
}

& azd env set AUTH_API_CLIENT_ID $appId
if ($LASTEXITCODE -ne 0) { Fail "azd env set AUTH_API_CLIENT_ID failed (exit $LASTEXITCODE)" }
Log "azd env set AUTH_API_CLIENT_ID $appId"
