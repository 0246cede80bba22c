// Azure AD credentials for identity-based connections, created once per distinct option set.
// `__credential=managedidentity` (the Functions convention) pins a managed identity, optionally a
// user-assigned one via `__clientId`; otherwise DefaultAzureCredential (developer sign-in locally).
import {
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from "@azure/identity";
import type { IdentityOptions } from "../config";

const credentials = new Map<string, TokenCredential>();

export function credentialFor(options: IdentityOptions): TokenCredential {
  const managed = options.credential?.toLowerCase() === "managedidentity";
  const key = `${managed ? "mi" : "default"}:${options.clientId ?? ""}`;
  let credential = credentials.get(key);
  if (!credential) {
    if (managed) {
      credential = options.clientId
        ? new ManagedIdentityCredential({ clientId: options.clientId })
        : new ManagedIdentityCredential();
    } else {
      credential = new DefaultAzureCredential(
        options.clientId ? { managedIdentityClientId: options.clientId } : {},
      );
    }
    credentials.set(key, credential);
  }
  return credential;
}
