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

/**
 * Makes the provider refuse the stored tokens (as when they expired or were revoked): the ID
 * token's signature is spoiled, and the refresh token is one the issuer never gave. Takes
 * effect on the next page load.
 */
export async function spoilSession(page) {
  await page.evaluate(() => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith("oidc.user:"));
    const user = JSON.parse(sessionStorage.getItem(key));
    const [header, payload] = user.id_token.split(".");
    user.id_token = `${header}.${payload}.bm90LWEtc2lnbmF0dXJl`;
    user.access_token = "expired";
    user.refresh_token = "revoked";
    sessionStorage.setItem(key, JSON.stringify(user));
  });
}
