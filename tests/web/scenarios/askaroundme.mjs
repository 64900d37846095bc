// Ask Around Me: ask, answer from a second user, the first user's page updating live (star
// score and heat map), a place chosen on the map when location is off, a network failure.
import { assert, signIn, spoilSession, submitSignIn, waitForText } from "./helpers.mjs";

const SPACE_NEEDLE = { latitude: 47.6205, longitude: -122.3493 };
const NEARBY = { latitude: 47.6241, longitude: -122.3410 };

const unique = (text) => `${text} (${Date.now().toString(36)})`;

async function user(ctx, name, site, email, place) {
  const page = await ctx.newPage(name, { geolocation: place, permissions: ["geolocation"] });
  await signIn(page, site, email);
  await waitForText(page.locator("#location-note"), "within 8 km");
  return page;
}

async function ask(page, text, type) {
  await page.locator("details.ask summary").click();
  await page.getByLabel("Your question").fill(text);
  await page.getByLabel(type === "star" ? "A rating, 0 to 5 stars" : "A place on the map").check();
  await page.getByRole("button", { name: "Ask", exact: true }).click();
  await waitForText(page.locator("#notice"), "Your question was sent");
}

async function open(page, text) {
  const question = page.locator("button.question").filter({ hasText: text });
  await question.waitFor({ timeout: 20_000 });
  await question.click();
  await waitForText(page.locator("#question-title"), text);
}

/** Counts the list reloads a page makes, so a change seen without one came live. */
function countListLoads(page, apiUrl) {
  const loads = { count: 0 };
  const path = `${new URL(apiUrl).pathname.replace(/\/$/, "")}/questions`;
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (request.method() === "GET" && url.pathname === path) loads.count += 1;
  });
  return loads;
}

export async function starAnswerUpdatesTheAskersScoreLive(ctx) {
  const { site, apiUrl } = ctx.params;
  const alice = await user(ctx, "asker", site, "alice@example.com", SPACE_NEEDLE);
  await waitForText(alice.locator("#live-status"), "Live");
  const text = unique("Is the coffee on this corner any good?");
  await ask(alice, text, "star");
  await open(alice, text);
  await waitForText(alice.locator("#question-summary"), "0 answers");
  await ctx.screenshot(alice, "asked");

  const bob = await user(ctx, "answerer", site, "bob@example.com", NEARBY);
  await open(bob, text);
  const loadsBefore = countListLoads(alice, apiUrl);
  await bob.getByRole("radio", { name: "4 stars" }).check();
  await bob.getByRole("button", { name: "Send my answer" }).click();
  await waitForText(bob.locator("#notice"), "Thanks");
  await ctx.screenshot(bob, "answered");

  const summary = await waitForText(alice.locator("#question-summary"), "★ 4.0 average, 1 answer", 30_000);
  await ctx.screenshot(alice, "live-score");
  assert.equal(loadsBefore.count, 0, "the asker's page changed without reloading the list: the update came live");
  return { summary };
}

export async function geoAnswerAppearsOnTheAskersHeatMap(ctx) {
  const { site } = ctx.params;
  const alice = await user(ctx, "asker", site, "alice@example.com", SPACE_NEEDLE);
  await waitForText(alice.locator("#live-status"), "Live");
  const text = unique("Where is the best view of the lake?");
  await ask(alice, text, "geo");
  await open(alice, text);
  await waitForText(alice.locator(".question-detail"), "No answers yet");

  const bob = await user(ctx, "answerer", site, "bob@example.com", NEARBY);
  await open(bob, text);
  const map = bob.locator("#map");
  const box = await map.boundingBox();
  await map.click({ position: { x: box.width * 0.6, y: box.height * 0.4 } });
  await waitForText(bob.locator("#answer-point"), "Your answer:");
  await bob.getByRole("button", { name: "Send my answer" }).click();
  await waitForText(bob.locator("#notice"), "Thanks");

  const heat = await waitForText(alice.locator(".heat-list"), "1 answer in area", 30_000);
  await waitForText(alice.locator("#question-summary"), "1 answer");
  const rectangles = await alice.locator("#map path.leaflet-interactive").count();
  assert.ok(rectangles >= 1, "the heat map draws the answer's cell");
  await ctx.screenshot(alice, "heat-map");
  return { heat };
}

export async function aPlaceChosenOnTheMapStandsInForLocation(ctx) {
  const { site } = ctx.params;
  const page = await ctx.newPage("no-location");
  await signIn(page, site, "alice@example.com");
  await waitForText(page.locator("#location-note"), "Location is off");
  await ctx.screenshot(page, "location-off");
  await page.locator("#map").click();
  const note = await waitForText(page.locator("#location-note"), "the place you chose");
  await page.getByRole("heading", { name: "Questions near you" }).waitFor();
  return { note };
}

export async function networkFailureIsShownAndRetried(ctx) {
  const { site, apiUrl } = ctx.params;
  const api = new URL(apiUrl);
  const page = await ctx.newPage("offline", { geolocation: SPACE_NEEDLE, permissions: ["geolocation"] });
  await page.route((url) => url.origin === api.origin && url.pathname.endsWith("/questions"), (route) => route.abort("internetdisconnected"));
  await signIn(page, site, "alice@example.com");
  const message = await waitForText(page.locator("#notice"), "Could not reach");
  await ctx.screenshot(page, "network-failure");
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await page.getByRole("button", { name: "Retry" }).click();
  await page.locator("#notice .notice-error").waitFor({ state: "detached" });
  await page.getByRole("heading", { name: "Questions near you" }).waitFor();
  return { message };
}

export async function expiredSessionAsksToSignInAgain(ctx) {
  const { site } = ctx.params;
  const page = await user(ctx, "expired", site, "alice@example.com", SPACE_NEEDLE);
  await spoilSession(page);
  await page.reload(); // the question list meets the refusal, and the refresh token is refused too
  const message = await waitForText(page.locator("#notice"), "session has expired");
  await ctx.screenshot(page, "session-expired");
  await page.getByRole("button", { name: "Sign in again" }).click();
  await submitSignIn(page, "alice@example.com");
  await waitForText(page.locator("#live-status"), "Live");
  return { message };
}

export async function aBadConfigurationNamesTheKeyAtFault(ctx) {
  const { site } = ctx.params;
  const page = await ctx.newPage("misconfigured");
  const served = await (await fetch(`${site}/config.json`)).json();
  await page.route(`${site}/config.json`, (route) => route.fulfill({
    contentType: "application/json", body: JSON.stringify({ ...served, realtime: { mode: "mqtt", url: null } }),
  }));
  await page.goto(site);
  const message = await waitForText(page.getByRole("alert"), "config.json: realtime.mode must be one of");
  await ctx.screenshot(page, "bad-config");
  return { message };
}
