/**
 * AWS credentials of the signed-in user from a Cognito identity pool (the ID token is the
 * login), and the SigV4-presigned WebSocket URL AWS IoT Core takes for MQTT.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { fromCognitoIdentity, fromCognitoIdentityPool } from "@aws-sdk/credential-provider-cognito-identity";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";

/** Renew credentials this long before they expire. */
const RENEW_BEFORE_MS = 5 * 60_000;
/** How long a presigned IoT URL may be used to open a connection (the connection itself outlives it). */
const SIGNED_URL_SECONDS = 300;

export type CredentialSource = () => Promise<AwsCredentialIdentity>;

/**
 * The identity pool's `Logins` key for an issuer: the issuer URL without its scheme and
 * trailing slash (`cognito-idp.<region>.amazonaws.com/<pool id>` for a Cognito user pool).
 */
export function loginProvider(authority: string): string {
  return authority.replace(/^https?:\/\//, "").replace(/\/+$/, "");
}

export interface IdentityPoolLogin {
  region: string;
  identityPoolId: string;
  authority: string;
  idToken: () => Promise<string>;
  /** The identity to use when the backend already looked it up (Ask Around Me's session). */
  identityId?: string;
}

/** Credentials of the signed-in user's identity, cached until shortly before they expire. */
export function identityPoolCredentials(login: IdentityPoolLogin): CredentialSource {
  const clientConfig = { region: login.region };
  let cached: AwsCredentialIdentity | null = null;
  return async () => {
    if (cached?.expiration && cached.expiration.getTime() - RENEW_BEFORE_MS > Date.now()) return cached;
    const logins = { [loginProvider(login.authority)]: await login.idToken() };
    const provider = login.identityId
      ? fromCognitoIdentity({ clientConfig, identityId: login.identityId, logins })
      : fromCognitoIdentityPool({ clientConfig, identityPoolId: login.identityPoolId, logins });
    cached = await provider();
    return cached;
  };
}

/**
 * `wss://<endpoint>/mqtt` presigned for the `iotdevicegateway` service. AWS IoT wants the
 * session token added after signing, not inside the signature, so it is signed without it.
 */
export async function signedIotUrl(endpoint: string, region: string, credentials: CredentialSource): Promise<string> {
  const { accessKeyId, secretAccessKey, sessionToken } = await credentials();
  const host = endpoint.replace(/^[a-z]+:\/\//, "").replace(/\/.*$/, "");
  const signer = new SignatureV4({
    service: "iotdevicegateway",
    region,
    credentials: { accessKeyId, secretAccessKey },
    sha256: Sha256,
  });
  const signed = await signer.presign(
    { method: "GET", protocol: "wss:", hostname: host, path: "/mqtt", headers: { host }, query: {} },
    { expiresIn: SIGNED_URL_SECONDS },
  );
  const url = new URL(`wss://${host}/mqtt`);
  for (const [name, value] of Object.entries(signed.query ?? {})) {
    if (typeof value === "string") url.searchParams.set(name, value);
  }
  if (sessionToken) url.searchParams.set("X-Amz-Security-Token", sessionToken);
  return url.toString();
}
