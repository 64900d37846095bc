// Robot viewer: press-and-hold driving (buttons and keys) with the drive API called with the
// right commands and a stop on release, a stop that gets through while a move is stuck,
// refused commands, telemetry online then silent, and the local video placeholder.
import mqtt from "mqtt";

import { assert, signIn, spoilSession, submitSignIn, waitForText } from "./helpers.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every drive command the page sends, with when it was sent. */
function recordCommands(page, apiUrl) {
  const commands = [];
  page.on("request", (request) => {
    if (request.method() === "POST" && request.url().replace(/\/$/, "") === apiUrl.replace(/\/$/, "")) {
      commands.push({ at: Date.now(), ...request.postDataJSON() });
    }
  });
  return commands;
}

/** What reaches the robot's action topic on the broker (when the scenario is given one). */
async function watchTopic(url, topic) {
  if (!url || !topic) return null;
  const client = await mqtt.connectAsync(url, { clientId: `e2e-watch-${Date.now()}` });
  const messages = [];
  client.on("message", (_topic, payload) => messages.push(JSON.parse(payload.toString())));
  await client.subscribeAsync(topic, { qos: 1 });
  return { messages, close: () => client.endAsync() };
}

function checkHoldThenStop(commands, action) {
  const moves = commands.filter((c) => c.action === action);
  assert.ok(moves.length >= 3, `a held control repeats its command (${moves.length} ${action} commands)`);
  for (const move of moves) assert.deepEqual(Object.keys(move).sort(), ["action", "at", "duration_ms", "speed"]);
  assert.equal(moves[0].duration_ms, 700);
  const firstStop = commands.findIndex((c) => c.action === "stop");
  assert.ok(firstStop > 0, "releasing sends a stop");
  assert.ok(commands.slice(firstStop).every((c) => c.action === "stop"), "nothing moves the robot after the stop");
  return { moves: moves.length, stops: commands.length - firstStop };
}

export async function holdingAControlRepeatsItAndReleasingStops(ctx) {
  const { site, apiUrl, mqttUrl, actionTopic } = ctx.params;
  const page = await ctx.newPage("driver");
  await signIn(page, site, "alice@example.com");
  const commands = recordCommands(page, apiUrl);
  const robot = await watchTopic(mqttUrl, actionTopic);
  const forward = page.getByRole("button", { name: "Forward" });
  await forward.hover();
  await page.mouse.down();
  await waitForText(page.locator("#drive-status"), "Moving: forward");
  assert.equal(await forward.getAttribute("aria-pressed"), "true");
  await ctx.screenshot(page, "holding");
  await sleep(2000);
  const releasedAt = Date.now();
  await page.mouse.up();
  await waitForText(page.locator("#drive-status"), "Stopped");
  await sleep(500);
  const summary = checkHoldThenStop(commands, "forward");
  const stop = commands.find((c) => c.action === "stop");
  assert.ok(stop.at - releasedAt < 1500, `the stop goes out on release (${stop.at - releasedAt} ms)`);
  assert.equal(commands[0].speed, 60);
  let delivered = null;
  if (robot) {
    await sleep(500);
    await robot.close();
    delivered = robot.messages;
    assert.deepEqual(delivered.at(-1), { action: "stop" }, "the robot's topic ends with the stop");
    assert.ok(delivered.some((m) => m.action === "forward" && m.duration_ms === 700 && m.speed === 60));
  }
  await ctx.screenshot(page, "released");
  return { ...summary, delivered: delivered?.map((m) => m.action) ?? null };
}

export async function arrowKeysDriveAndSpaceStops(ctx) {
  const { site, apiUrl } = ctx.params;
  const page = await ctx.newPage("keyboard");
  await signIn(page, site, "alice@example.com");
  const commands = recordCommands(page, apiUrl);
  await page.locator("#drive-title").click();
  await page.keyboard.down("ArrowLeft");
  await sleep(1000);
  await page.keyboard.up("ArrowLeft");
  await waitForText(page.locator("#drive-status"), "Stopped");
  const left = checkHoldThenStop(commands, "left");

  commands.length = 0;
  await page.keyboard.down("ArrowUp");
  await waitForText(page.locator("#drive-status"), "Moving: forward");
  await page.keyboard.press(" ");
  await waitForText(page.locator("#drive-status"), "Stopped");
  await sleep(1000); // still holding the arrow: it must not move again
  await page.keyboard.up("ArrowUp");
  const stopAt = commands.findIndex((c) => c.action === "stop");
  assert.ok(commands[0].action === "forward" && stopAt > 0, "the arrow drove, space stopped");
  assert.ok(commands.slice(stopAt).every((c) => c.action === "stop"), "space stopped the repeating command");
  return { left, afterSpace: commands.map((c) => c.action) };
}

export async function stopGetsThroughWhileAMoveIsStuck(ctx) {
  const { site, apiUrl } = ctx.params;
  const page = await ctx.newPage("stuck");
  await signIn(page, site, "alice@example.com");
  const commands = recordCommands(page, apiUrl);
  // The network holds every move for 3 s; stops are not held.
  await page.route((url) => url.href.replace(/\/$/, "") === apiUrl.replace(/\/$/, ""), async (route) => {
    if (route.request().postDataJSON()?.action !== "stop") await sleep(3000);
    await route.continue();
  });
  const forward = page.getByRole("button", { name: "Forward" });
  await forward.hover();
  await page.mouse.down();
  await sleep(400);
  const clicked = Date.now();
  await page.getByRole("button", { name: "Stop" }).click({ force: true });
  await page.mouse.up();
  await waitForText(page.locator("#drive-status"), "Stopped");
  const firstStop = commands.find((c) => c.action === "stop");
  assert.ok(firstStop && firstStop.at - clicked < 1500, "the stop was sent at once, not after the stuck move (3 s)");
  assert.equal(commands.filter((c) => c.action === "forward").length, 1, "moves are never queued behind a stuck one");
  await sleep(3500); // the stuck move is answered after the stop: the page stops once more
  const stops = commands.filter((c) => c.action === "stop");
  assert.ok(stops.length >= 2 && stops.at(-1).at - clicked > 1000, "a move answered after the stop is followed by another stop");
  await page.unrouteAll({ behavior: "ignoreErrors" });
  return { commands: commands.map((c) => c.action) };
}

export async function refusedCommandsAreShown(ctx) {
  const { site, apiUrl } = ctx.params;
  const page = await ctx.newPage("refused");
  await signIn(page, site, "alice@example.com");
  await page.route((url) => url.href.replace(/\/$/, "") === apiUrl.replace(/\/$/, ""), (route) => route.fulfill({
    status: 503, contentType: "application/json", headers: { "access-control-allow-origin": new URL(site).origin },
    body: JSON.stringify({ message: "The command could not be delivered to the robot; try again" }),
  }));
  await page.getByRole("button", { name: "Backwards" }).hover();
  await page.mouse.down();
  const moving = await waitForText(page.locator("#drive-error"), "could not be delivered");
  await page.mouse.up();
  const stopping = await waitForText(page.locator("#drive-error"), "The stop did not reach the robot");
  await ctx.screenshot(page, "refused");
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await page.getByRole("button", { name: "Stop" }).click();
  await page.locator("#drive-error").waitFor({ state: "detached" });
  return { moving, stopping };
}

export async function telemetryShowsOnlineThenSilent(ctx) {
  const { site, mqttUrl, telemetryTopic, intervalSeconds } = ctx.params;
  const page = await ctx.newPage("telemetry");
  await page.clock.install();
  await signIn(page, site, "alice@example.com");
  await waitForText(page.locator("#robot-online"), "Waiting");
  const robot = await mqtt.connectAsync(mqttUrl, { clientId: `e2e-robot-${Date.now()}` });
  const report = {
    thing_name: "robot1", timestamp: new Date().toISOString(), state: "running", uptime_s: 12.5, connection: "connected",
    motors: "stopped", last_command: { action: "forward", speed: 60, duration_ms: 700 },
    last_command_time: new Date().toISOString(), last_stop_reason: "duration", ignored_messages: 0,
    camera: { state: "disabled" },
  };
  // Until the page has subscribed, a report would be missed: publish until it shows.
  const deadline = Date.now() + 15_000;
  while (!(await page.locator("#robot-online").textContent()).includes("Online")) {
    assert.ok(Date.now() < deadline, "the telemetry report never showed");
    await robot.publishAsync(telemetryTopic, JSON.stringify(report), { qos: 1 });
    await page.clock.runFor(500);
  }
  await robot.endAsync();
  await waitForText(page.locator("#telemetry-report"), "duration");
  await ctx.screenshot(page, "online");
  await page.clock.fastForward((2 * intervalSeconds + 2) * 1000);
  const silent = await waitForText(page.locator("#robot-online"), "Silent");
  await ctx.screenshot(page, "silent");
  return { silent };
}

export async function videoIsAPlaceholderLocally(ctx) {
  const { site } = ctx.params;
  const page = await ctx.newPage("video");
  await signIn(page, site, "alice@example.com");
  const text = await waitForText(page.locator("#video-placeholder"), "Video is not available locally");
  await ctx.screenshot(page, "placeholder");
  return { text };
}

export async function networkFailureIsShown(ctx) {
  const { site, apiUrl } = ctx.params;
  const page = await ctx.newPage("offline");
  await signIn(page, site, "alice@example.com");
  await page.route((url) => url.href.replace(/\/$/, "") === apiUrl.replace(/\/$/, ""), (route) => route.abort("internetdisconnected"));
  await page.getByRole("button", { name: "Turn right" }).hover();
  await page.mouse.down();
  const moving = await waitForText(page.locator("#drive-error"), "Could not reach");
  await page.mouse.up();
  await waitForText(page.locator("#drive-error"), "The stop did not reach the robot");
  await ctx.screenshot(page, "network-failure");
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await page.keyboard.press(" ");
  await page.locator("#drive-error").waitFor({ state: "detached" });
  return { moving };
}

export async function expiredSessionAsksToSignInAgain(ctx) {
  const { site, apiUrl } = ctx.params;
  const page = await ctx.newPage("expired");
  await signIn(page, site, "alice@example.com");
  await spoilSession(page);
  const commands = recordCommands(page, apiUrl);
  // The page learns it at once: opening the telemetry session (POST /session) is refused and
  // the tokens cannot be renewed, so it asks to sign in again before anyone tries to drive.
  await page.reload();
  const message = await waitForText(page.locator("#notice"), "session has expired");
  await ctx.screenshot(page, "session-expired");
  assert.equal(await page.getByRole("button", { name: "Forward" }).count(), 0, "no drive controls without a session");
  assert.equal(commands.length, 0);
  await page.getByRole("button", { name: "Sign in again" }).click();
  await submitSignIn(page, "alice@example.com");
  await page.getByRole("button", { name: "Forward" }).waitFor();
  return { message };
}
