// URL shortener dashboard: sign in, create, copy, edit, follow, delete; a taken id, the API's
// validation message, a refused change, a network failure, an expired session, and an expired
// ID token renewed with the refresh token.
import {
  assert, expireIdToken, recordTokenRequests, revokeRefreshToken, signIn, spoilSession, storedUser, submitSignIn,
  waitForText,
} from "./helpers.mjs";

const unique = (prefix) => `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

async function create(page, id, url) {
  await page.getByLabel("Short id").fill(id);
  await page.getByLabel("Leads to").fill(url);
  await page.getByRole("button", { name: "Create short link" }).click();
}

function row(page, id) {
  return page.locator(`tr[data-link="${id}"]`);
}

/** Follows a short link in a fresh page and answers where the browser ended up. */
async function follow(context, shortLink) {
  const page = await context.newPage("follower");
  await page.goto(shortLink);
  return page.url();
}

export async function createEditDeleteAndFollow(ctx) {
  const { site, shortLinkBase, email = "alice@example.com" } = ctx.params;
  const page = await ctx.newPage("owner", { permissions: ["clipboard-read", "clipboard-write"] });
  await signIn(page, site, email);
  const id = unique("e2e");
  const first = `${site}/first-target?link=${id}`;
  const second = `${site}/second-target?link=${id}`;
  await create(page, id, first);
  await waitForText(page.locator("#notice"), `Created ${shortLinkBase.replace(/\/+$/, "")}/${id}`);
  await waitForText(row(page, id), first);

  await row(page, id).getByRole("button", { name: /^Copy/ }).click();
  await waitForText(page.locator("#notice"), "Copied");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, `${shortLinkBase.replace(/\/+$/, "")}/${id}`);
  await ctx.screenshot(page, "created");

  await row(page, id).getByRole("button", { name: `Edit ${id}` }).click();
  await page.getByLabel(`New address for ${id}`).fill(second);
  await page.getByRole("button", { name: "Save" }).click();
  await waitForText(row(page, id), second);
  assert.equal(await follow(ctx, copied), second, "the short link leads to the edited address");
  await ctx.screenshot(page, "edited");

  page.once("dialog", (dialog) => dialog.accept());
  await row(page, id).getByRole("button", { name: `Delete ${id}` }).click();
  await waitForText(page.locator("#notice"), `Deleted`);
  await row(page, id).waitFor({ state: "detached" });
  // The not-found page is off this machine: read the redirect rather than follow it.
  const answer = await page.request.get(copied, { maxRedirects: 0 });
  const afterDelete = { status: answer.status(), location: answer.headers().location };
  assert.notEqual(afterDelete.location, second, "a deleted short link no longer leads to its address");
  await ctx.screenshot(page, "deleted");
  const signedIn = await storedUser(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  assert.equal(new URL(page.url()).origin, new URL(site).origin, "signing out comes back to the dashboard");
  // Signing out revoked the refresh token: it renews nothing any more, anywhere.
  const metadata = await (await page.request.get(`${signedIn.profile.iss}/.well-known/openid-configuration`)).json();
  const renewal = await page.request.post(metadata.token_endpoint, {
    form: { grant_type: "refresh_token", refresh_token: signedIn.refresh_token, client_id: signedIn.profile.aud },
  });
  const refreshAfterSignOut = { status: renewal.status(), error: (await renewal.json()).error };
  return { id, afterDelete, refreshAfterSignOut };
}

export async function listIsPaginated(ctx) {
  const { site, email = "alice@example.com", pageSize = 25 } = ctx.params;
  const page = await ctx.newPage("owner");
  await signIn(page, site, email);
  const prefix = unique("page");
  // Created through the API with the page's own token, quicker than the form for a full page.
  const created = await page.evaluate(async ({ prefix, count, site }) => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith("oidc.user:"));
    const { id_token } = JSON.parse(sessionStorage.getItem(key));
    const config = await (await fetch("/config.json")).json();
    const ids = [];
    for (let i = 0; i < count; i += 1) {
      const id = `${prefix}-${String(i).padStart(3, "0")}`;
      const response = await fetch(new URL("app", config.apiUrl.replace(/\/?$/, "/")), {
        method: "POST", headers: { Authorization: `Bearer ${id_token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ id, url: `${site}/target/${i}` }),
      });
      if (response.status !== 201) throw new Error(`create ${id}: HTTP ${response.status}`);
      ids.push(id);
    }
    return ids;
  }, { prefix, count: pageSize + 1, site });
  await page.reload();
  await page.locator("table.links").waitFor();
  const firstPage = await page.locator("tr[data-link]").count();
  assert.equal(firstPage, pageSize, "a full first page");
  await page.getByRole("button", { name: "Next page" }).click();
  await waitForText(page.locator(".pager .status"), "Page 2");
  const secondIds = await page.locator("tr[data-link]").evaluateAll((rows) => rows.map((r) => r.dataset.link));
  assert.ok(secondIds.length >= 1, "the second page lists the rest");
  await ctx.screenshot(page, "second-page");
  await page.getByRole("button", { name: "Previous page" }).click();
  await waitForText(page.locator(".pager .status"), "Page 1");
  return { created: created.length, secondPage: secondIds };
}

export async function takenIdAndInvalidInputShowClearErrors(ctx) {
  const { site } = ctx.params;
  const alice = await ctx.newPage("alice");
  await signIn(alice, site, "alice@example.com");
  const id = unique("taken");
  await create(alice, id, `${site}/alice`);
  await waitForText(alice.locator("#notice"), "Created");

  const bob = await ctx.newPage("bob");
  await signIn(bob, site, "bob@example.com");
  await create(bob, id, `${site}/bob`);
  const taken = await waitForText(bob.locator("#link-id-error"), "already taken");
  assert.equal(await bob.getByLabel("Short id").getAttribute("aria-invalid"), "true");
  await ctx.screenshot(bob, "taken-id");

  await create(bob, "not a valid id!", `${site}/bob`);
  const invalid = await waitForText(bob.locator("#create-error"), "Invalid request body");
  await create(bob, unique("bad-url"), "javascript:alert(1)");
  const badUrl = await waitForText(bob.locator("#create-error"), "Invalid request body");
  await ctx.screenshot(bob, "validation-message");
  return { taken, invalid, badUrl };
}

export async function refusedChangeIsExplained(ctx) {
  const { site } = ctx.params;
  const page = await ctx.newPage("owner");
  await signIn(page, site, "alice@example.com");
  const id = unique("gone");
  await create(page, id, `${site}/before`);
  await waitForText(row(page, id), `${site}/before`);
  await row(page, id).getByRole("button", { name: `Edit ${id}` }).click();
  // Deleted elsewhere (another tab) while this one edits it.
  const status = await page.evaluate(async (id) => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith("oidc.user:"));
    const { id_token } = JSON.parse(sessionStorage.getItem(key));
    const config = await (await fetch("/config.json")).json();
    const response = await fetch(new URL(`app/${id}`, config.apiUrl.replace(/\/?$/, "/")), {
      method: "DELETE", headers: { Authorization: `Bearer ${id_token}` },
    });
    return response.status;
  }, id);
  assert.equal(status, 204);
  await page.getByLabel(`New address for ${id}`).fill(`${site}/after`);
  await page.getByRole("button", { name: "Save" }).click();
  const message = await waitForText(page.locator("#edit-error"), "can no longer be changed");
  await ctx.screenshot(page, "refused-change");
  return { message };
}

export async function networkFailureIsShownAndRetried(ctx) {
  const { site, apiUrl } = ctx.params;
  const page = await ctx.newPage("owner");
  await signIn(page, site, "alice@example.com");
  await page.locator("#links-title").waitFor();
  const api = new URL(apiUrl);
  await page.route((url) => url.origin === api.origin && url.pathname.startsWith(`${api.pathname.replace(/\/$/, "")}/app`),
    (route) => route.abort("internetdisconnected"));
  await page.getByRole("button", { name: "Next page" }).isVisible();
  await create(page, unique("offline"), `${site}/x`);
  const message = await waitForText(page.locator("#notice"), "Could not reach");
  await ctx.screenshot(page, "network-failure");
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await page.getByRole("button", { name: "Create short link" }).click();
  await waitForText(page.locator("#notice"), "Created");
  return { message };
}

export async function expiredSessionAsksToSignInAgain(ctx) {
  const { site } = ctx.params;
  const page = await ctx.newPage("owner");
  await signIn(page, site, "alice@example.com");
  await page.locator("#links-title").waitFor();
  await spoilSession(page);
  await page.reload(); // loading the links meets the refusal, and renewing with the refresh token fails
  const message = await waitForText(page.locator("#notice"), "session has expired");
  await ctx.screenshot(page, "session-expired");
  await page.getByRole("button", { name: "Sign in again" }).click();
  await submitSignIn(page, "alice@example.com");
  await page.locator("#links-title").waitFor();
  return { message };
}

/** The Authorization headers the page sends to the API, in order. */
function recordApiTokens(page, apiUrl) {
  const api = new URL(apiUrl);
  const sent = [];
  page.on("request", (request) => {
    const authorization = request.headers().authorization;
    if (new URL(request.url()).origin === api.origin && authorization) sent.push(authorization.replace(/^Bearer /, ""));
  });
  return sent;
}

export async function anExpiredTokenIsNeverSent(ctx) {
  const { site, apiUrl } = ctx.params;
  const page = await ctx.newPage("owner");
  await signIn(page, site, "alice@example.com");
  await page.locator("#links-title").waitFor();
  await expireIdToken(page); // the page an hour later: the ID token has expired...
  await revokeRefreshToken(page); // ...and the session was ended, so it cannot be renewed
  const sent = recordApiTokens(page, apiUrl);
  const grants = recordTokenRequests(page);
  await page.reload();
  const message = await waitForText(page.locator("#notice"), "session has expired");
  const refused = [...grants]; // signing in again below adds its authorization_code
  assert.deepEqual(refused, ["refresh_token"], "the page tried to renew, once, and was refused");
  assert.deepEqual(sent, [], "nothing was sent to the API with the expired token");
  await page.getByRole("button", { name: "Sign in again" }).click();
  await submitSignIn(page, "alice@example.com");
  await page.locator("#links-title").waitFor();
  return { message, grants: refused };
}

export async function anExpiredIdTokenIsRenewedSilently(ctx) {
  const { site, apiUrl, shortLinkBase } = ctx.params;
  const page = await ctx.newPage("owner");
  await signIn(page, site, "alice@example.com");
  await page.locator("#links-title").waitFor();
  const before = await storedUser(page);
  await expireIdToken(page); // the page an hour later; the refresh token is still good
  const issuer = new URL(before.profile.iss).origin;
  const visited = [];
  page.on("framenavigated", (frame) => visited.push(frame.url()));
  const sent = recordApiTokens(page, apiUrl);
  const grants = recordTokenRequests(page);
  await page.reload();
  const id = unique("renewed");
  await create(page, id, `${site}/renewed`);
  await waitForText(page.locator("#notice"), `Created ${shortLinkBase.replace(/\/+$/, "")}/${id}`);
  const after = await storedUser(page);
  assert.deepEqual(grants, ["refresh_token"], "renewed once, with the refresh token, and no new sign-in");
  assert.deepEqual(visited.filter((url) => new URL(url).origin === issuer), [], "the sign-in page was never shown");
  assert.notEqual(after.id_token, before.id_token, "a new ID token");
  assert.equal(after.profile.sub, before.profile.sub);
  assert.equal(after.refresh_token, before.refresh_token, "the same refresh token: the issuer does not rotate it");
  assert.ok(after.profile.exp > Date.now() / 1000 + 60, "the new ID token has not expired");
  assert.ok(sent.length >= 2, "the list and the new link went to the API");
  assert.ok(sent.every((token) => token === after.id_token), "the API only ever got the renewed ID token");
  await ctx.screenshot(page, "renewed");
  return { grants, sentToApi: sent.length };
}
