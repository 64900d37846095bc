// What every scenario does: sign in through the issuer's page, wait for text, assert.
import assert from "node:assert/strict";

export { assert };

export const PASSWORD = "local-password";

/** Opens `site`, signs in as `email` on the issuer's page and waits for the app to show the user. */
export async function signIn(page, site, email) {
  await page.goto(site);
  await page.getByRole("button", { name: "Sign in" }).click();
  await submitSignIn(page, email);
  await page.waitForURL((url) => url.origin === new URL(site).origin && !url.pathname.startsWith("/callback"));
  await page.locator(".app-header .user").filter({ hasText: email }).waitFor();
}

/** Fills and sends the issuer's sign-in form (the page the app redirected to). */
export async function submitSignIn(page, email) {
  const form = page.locator("form").filter({ has: page.locator('input[type="password"]') }).first();
  await form.locator('input[type="email"], input[name="username"], input[name="email"]').first().fill(email);
  await form.locator('input[type="password"]').fill(PASSWORD);
  await form.locator('button[type="submit"], input[type="submit"]').first().click();
}

/** Waits until `locator`'s text matches `expected` (a string it contains, or a RegExp). */
export async function waitForText(locator, expected, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  let last = "";
  while (Date.now() < deadline) {
    last = (await locator.textContent().catch(() => "")) ?? "";
    if (expected instanceof RegExp ? expected.test(last) : last.includes(expected)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${expected} in ${locator}; last text: ${JSON.stringify(last)}`);
}

const USER_KEY_PREFIX = "oidc.user:";

/** The signed-in user as oidc-client-ts keeps it in the tab's sessionStorage (null if none). */
export async function storedUser(page) {
  return (await readStoredUser(page)).user;
}

async function readStoredUser(page) {
  return page.evaluate((prefix) => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith(prefix));
    return { key, user: key ? JSON.parse(sessionStorage.getItem(key)) : null };
  }, USER_KEY_PREFIX);
}

/** Changes the stored user with `edit(user)` (run here, not in the page). */
async function editStoredUser(page, edit) {
  const { key, user } = await readStoredUser(page);
  assert.ok(user, "a signed-in user is stored");
  edit(user);
  await page.evaluate(([k, u]) => sessionStorage.setItem(k, JSON.stringify(u)), [key, user]);
}

/**
 * The page an hour later: the stored ID and access tokens have passed their expiry (their
 * `exp` as the page reads it; the issuer would still accept them). Takes effect on the next load.
 */
export async function expireIdToken(page) {
  await editStoredUser(page, (user) => {
    const past = Math.floor(Date.now() / 1000) - 60;
    user.profile.exp = past;
    user.expires_at = past;
  });
}

/**
 * Revokes the page's refresh token at the issuer's revocation endpoint (Cognito's
 * /oauth2/revoke), as when the session is ended elsewhere: the page still holds it and learns
 * at its next renewal that the issuer refuses it.
 */
export async function revokeRefreshToken(page) {
  const user = await storedUser(page);
  assert.ok(user?.refresh_token, "the issuer gave a refresh token at sign-in");
  const metadata = await (await page.request.get(`${user.profile.iss}/.well-known/openid-configuration`)).json();
  const answer = await page.request.post(metadata.revocation_endpoint, {
    form: { token: user.refresh_token, client_id: user.profile.aud },
  });
  assert.equal(answer.status(), 200, `the issuer revoked the refresh token: ${await answer.text()}`);
}

/**
 * Makes the provider refuse the stored tokens (as when they expired or were revoked): the
 * refresh token is revoked at the issuer, the ID token's signature is spoiled and the access
 * token replaced. Takes effect on the next page load.
 */
export async function spoilSession(page) {
  await revokeRefreshToken(page);
  await editStoredUser(page, (user) => {
    const [header, payload] = user.id_token.split(".");
    user.id_token = `${header}.${payload}.bm90LWEtc2lnbmF0dXJl`;
    user.access_token = "expired";
  });
}

/** Records the grant types the page asks the issuer's token endpoint for, in order. */
export function recordTokenRequests(page) {
  const grants = [];
  page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname.endsWith("/oauth2/token")) {
      grants.push(new URLSearchParams(request.postData() ?? "").get("grant_type"));
    }
  });
  return grants;
}
