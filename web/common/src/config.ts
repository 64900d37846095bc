/**
 * The runtime configuration every client loads from its own origin (`config.json`) before
 * anything else, so one build serves every environment. Shapes: web/README.md.
 */

export interface AuthConfig {
  /** OIDC issuer URL; its discovery document names the authorize and token endpoints. */
  authority: string;
  clientId: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  scope: string;
  /** Send the ID token (true: Cognito authorizers and identity pools need it) or the access token. */
  idTokenForApi: boolean;
  /** Where signing out revokes the refresh token (Cognito's discovery document names none); null: discovery's. */
  revocationEndpoint: string | null;
}

export interface BaseConfig {
  auth: AuthConfig;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Json = Record<string, unknown>;

/** Reads one JSON object with messages naming the key at fault (`config.json: auth.clientId ...`). */
export class ConfigReader {
  constructor(private readonly raw: Json, private readonly path = "") {}

  private fail(key: string, what: string): never {
    throw new ConfigError(`config.json: ${this.path}${key} ${what}`);
  }

  private value(key: string): unknown {
    return this.raw[key];
  }

  object(key: string): ConfigReader {
    const value = this.value(key);
    if (typeof value !== "object" || value === null || Array.isArray(value)) this.fail(key, "must be an object");
    return new ConfigReader(value as Json, `${this.path}${key}.`);
  }

  string(key: string): string {
    const value = this.value(key);
    if (typeof value !== "string" || value.trim() === "") this.fail(key, "must be a non-empty string");
    return value;
  }

  optionalString(key: string): string | null {
    const value = this.value(key);
    return value === null || value === undefined ? null : this.string(key);
  }

  url(key: string, schemes: readonly string[] = ["https:", "http:"]): string {
    const value = this.string(key);
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      this.fail(key, `must be an absolute URL, got ${JSON.stringify(value)}`);
    }
    if (!schemes.includes(parsed.protocol)) this.fail(key, `must be a ${schemes.join(" or ")} URL, got ${JSON.stringify(value)}`);
    return value;
  }

  optionalUrl(key: string, schemes?: readonly string[]): string | null {
    const value = this.value(key);
    return value === null || value === undefined ? null : this.url(key, schemes);
  }

  boolean(key: string): boolean {
    const value = this.value(key);
    if (typeof value !== "boolean") this.fail(key, "must be true or false");
    return value;
  }

  number(key: string, low: number, high: number): number {
    const value = this.value(key);
    if (typeof value !== "number" || !Number.isFinite(value) || value < low || value > high) {
      this.fail(key, `must be a number from ${low} to ${high}`);
    }
    return value;
  }

  choice<T extends string>(key: string, choices: readonly T[]): T {
    const value = this.value(key);
    if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
      this.fail(key, `must be one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`);
    }
    return value as T;
  }
}

function readAuth(reader: ConfigReader): AuthConfig {
  const auth = reader.object("auth");
  return {
    authority: auth.url("authority"),
    clientId: auth.string("clientId"),
    redirectUri: auth.url("redirectUri"),
    postLogoutRedirectUri: auth.url("postLogoutRedirectUri"),
    scope: auth.string("scope"),
    idTokenForApi: auth.boolean("idTokenForApi"),
    revocationEndpoint: auth.optionalUrl("revocationEndpoint"),
  };
}

/** Fetches `config.json` next to the page and reads it with `read` (the client's own keys). */
export async function loadConfig<T>(read: (reader: ConfigReader) => T): Promise<T & BaseConfig> {
  const url = new URL("config.json", document.baseURI);
  let response: Response;
  try {
    response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
  } catch {
    throw new ConfigError(`config.json could not be loaded from ${url.origin}: check your connection and reload`);
  }
  if (!response.ok) throw new ConfigError(`config.json could not be loaded (HTTP ${response.status})`);
  let raw: unknown;
  try {
    raw = await response.json();
  } catch {
    throw new ConfigError("config.json is not valid JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError("config.json must hold an object");
  const reader = new ConfigReader(raw as Json);
  return { ...read(reader), auth: readAuth(reader) };
}

/** `path` resolved against an API base URL, whether or not the base ends with a slash. */
export function apiUrl(base: string, path: string): URL {
  if (!path) return new URL(base); // the base is the endpoint itself (the robot's .../publish)
  const root = base.endsWith("/") ? base : `${base}/`;
  return new URL(path.replace(/^\/+/, ""), root);
}
