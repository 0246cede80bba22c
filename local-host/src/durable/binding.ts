// The `durableClient` input binding's JSON (durable-protocol.md §4): the task hub, the creation
// and management URLs (webhook base, with the system key when keys are enforced) and the rpc
// base the SDK's DurableClient calls.

export interface BindingOptions {
  taskHub: string;
  publicBaseUrl: string;
  rpcBaseUrl: string;
  systemKey?: string;
}

function codeOnly(o: BindingOptions): string {
  return o.systemKey ? `code=${encodeURIComponent(o.systemKey)}` : "";
}

/** `taskHub=..&connection=Storage[&code=..]`, as the extension appends to management URLs. */
export function querySuffix(o: BindingOptions): string {
  const code = codeOnly(o);
  return `taskHub=${encodeURIComponent(o.taskHub)}&connection=Storage${code ? `&${code}` : ""}`;
}

export function clientBindingData(o: BindingOptions): Record<string, unknown> {
  const base = `${o.publicBaseUrl.replace(/\/$/, "")}/runtime/webhooks/durabletask`;
  const q = querySuffix(o);
  const code = codeOnly(o);
  const instance = `${base}/instances/INSTANCEID`;
  return {
    taskHubName: o.taskHub,
    creationUrls: {
      createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${code}`,
      createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${code}`,
    },
    managementUrls: {
      id: "INSTANCEID",
      statusQueryGetUri: `${instance}?${q}`,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}?${q}`,
      terminatePostUri: `${instance}/terminate?reason={text}&${q}`,
      rewindPostUri: `${instance}/rewind?reason={text}&${q}`,
      purgeHistoryDeleteUri: `${instance}?${q}`,
      restartPostUri: `${instance}/restart?${q}`,
      suspendPostUri: `${instance}/suspend?reason={text}&${q}`,
      resumePostUri: `${instance}/resume?reason={text}&${q}`,
    },
    baseUrl: base,
    requiredQueryStringParameters: code,
    rpcBaseUrl: o.rpcBaseUrl.endsWith("/") ? o.rpcBaseUrl : `${o.rpcBaseUrl}/`,
    httpBaseUrl: "",
    maxGrpcMessageSizeInBytes: 0,
    grpcHttpClientTimeout: "00:01:40",
  };
}
