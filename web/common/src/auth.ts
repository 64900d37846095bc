/**
 * Sign-in with an OIDC provider (Cognito's hosted UI, or the local issuer of `make local`):
 * authorization code with PKCE through oidc-client-ts, tokens kept in this tab's
 * sessionStorage, renewed with the refresh token when the provider gave one.
 */
import { User, UserManager, WebStorageStateStore } from "oidc-client-ts";

import type { AuthConfig } from "./config";

/** No usable token: the user must sign in (again). */
export class SessionExpiredError extends Error {
  override name = "SessionExpiredError";
  constructor(message = "Your session has expired. Sign in again to continue.") {
    super(message);
  }
}

const CLOCK_SKEW_SECONDS = 30;

export class Session {
  private readonly manager: UserManager;
  private user: User | null = null;
  private renewing: Promise<boolean> | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly config: AuthConfig) {
    this.manager = new UserManager({
      authority: config.authority,
      client_id: config.clientId,
      redirect_uri: config.redirectUri,
      post_logout_redirect_uri: config.postLogoutRedirectUri,
      scope: config.scope,
      response_type: "code",
      // Renewing through a hidden iframe (prompt=none) is blocked by the sites' frame policy
      // and third-party cookie rules; the refresh token is used on demand instead.
      automaticSilentRenew: false,
      monitorSession: false,
      loadUserInfo: false,
      userStore: new WebStorageStateStore({ store: window.sessionStorage }),
      ...(config.revocationEndpoint ? { metadataSeed: { revocation_endpoint: config.revocationEndpoint } } : {}),
    });
  }

  /** Completes a sign-in redirect when the page is the callback, then loads the stored user. */
  async start(): Promise<User | null> {
    const here = new URL(window.location.href);
    const redirect = new URL(this.config.redirectUri);
    if (here.pathname === redirect.pathname && (here.searchParams.has("code") || here.searchParams.has("error"))) {
      try {
        const user = await this.manager.signinRedirectCallback();
        const returnTo = typeof user.state === "string" && user.state.startsWith("/") ? user.state : "/";
        window.history.replaceState(null, "", returnTo);
      } catch (error) {
        window.history.replaceState(null, "", "/");
        throw new Error(`Sign-in did not complete: ${describe(error)}`);
      }
    }
    this.user = await this.manager.getUser();
    this.emit();
    return this.user;
  }

  get signedIn(): boolean {
    return this.user !== null;
  }

  /** Who is signed in, for display: the email claim, else the user name or subject. */
  get displayName(): string {
    const profile = this.user?.profile;
    if (!profile) return "";
    const name = profile.email ?? profile["cognito:username"] ?? profile.preferred_username ?? profile.sub;
    return String(name);
  }

  get subject(): string | null {
    return this.user?.profile.sub ?? null;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }

  async signIn(): Promise<void> {
    const returnTo = `${window.location.pathname}${window.location.search}${window.location.hash}`;
    await this.manager.signinRedirect({ state: returnTo.startsWith("/callback") ? "/" : returnTo });
  }

  async signOut(): Promise<void> {
    const hint = this.user?.id_token;
    try {
      // Cognito's logout endpoint only ends the hosted sign-in; the refresh token (good for
      // days) would still renew sessions elsewhere, so it is revoked first (RFC 7009).
      if (this.user?.refresh_token) await this.manager.revokeTokens(["refresh_token"]);
    } catch {
      // Unreachable or no revocation endpoint: signing out here must not depend on it.
    }
    await this.manager.removeUser();
    this.user = null;
    this.emit();
    try {
      // Cognito's logout endpoint wants client_id and logout_uri rather than the standard
      // post_logout_redirect_uri; sending both works with Cognito and any standard provider.
      await this.manager.signoutRedirect({
        id_token_hint: hint,
        extraQueryParams: { client_id: this.config.clientId, logout_uri: this.config.postLogoutRedirectUri },
      });
    } catch {
      window.location.assign(this.config.postLogoutRedirectUri); // no end-session endpoint: signed out here only
    }
  }

  /**
   * The token the APIs take. An expired one is first renewed with the refresh token;
   * SessionExpiredError when that is not possible.
   */
  async token(): Promise<string> {
    const user = await this.current();
    const token = this.config.idTokenForApi ? user.id_token : user.access_token;
    if (!token) throw new SessionExpiredError();
    return token;
  }

  /** The ID token, which identity pools take whatever the APIs are sent (renewed like `token`). */
  async idToken(): Promise<string> {
    const token = (await this.current()).id_token;
    if (!token) throw new SessionExpiredError();
    return token;
  }

  private async current(): Promise<User> {
    if (!this.user) throw new SessionExpiredError("You are not signed in.");
    if (!this.expired(this.user)) return this.user;
    if (await this.renew()) return this.user!;
    await this.expire();
    throw new SessionExpiredError();
  }

  private expired(user: User): boolean {
    const expiresAt = this.config.idTokenForApi ? Number(user.profile.exp) : user.expires_at;
    return Boolean(expiresAt && expiresAt - CLOCK_SKEW_SECONDS <= Date.now() / 1000);
  }

  /**
   * Renews the tokens with the refresh token; false when that is not possible. One renewal at
   * a time: callers that need one meanwhile share it (a refresh token may be good only once).
   */
  renew(): Promise<boolean> {
    this.renewing ??= this.refresh().finally(() => {
      this.renewing = null;
    });
    return this.renewing;
  }

  private async refresh(): Promise<boolean> {
    if (!this.user?.refresh_token) return false;
    try {
      this.user = await this.manager.signinSilent();
    } catch {
      this.user = null;
      await this.manager.removeUser();
    }
    this.emit();
    return this.user !== null;
  }

  /** Forgets the tokens (the provider refused them) without leaving the page. */
  async expire(): Promise<void> {
    await this.manager.removeUser();
    this.user = null;
    this.emit();
  }
}

export function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
