// Runs one browser scenario in Debian's headless Chromium through playwright-core and prints
// its result as one JSON line; a failed check exits 1 with the message (and a screenshot).
//
//   node tests/web/driver.mjs <client> <scenario> '<params JSON>'
//
// Only loopback is ever reached: every request to another host is aborted, and the browser
// resolves no host name but localhost.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const [client, scenario, rawParams = "{}"] = process.argv.slice(2);
const params = JSON.parse(rawParams);
const artifacts = path.resolve(params.artifacts ?? path.join(HERE, "..", "..", "test-artifacts", "web"));
const executablePath = params.chromium ?? "/usr/bin/chromium";
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

const browser = await chromium.launch({
  executablePath,
  headless: true,
  // playwright-core starts Chromium with a fresh temporary --user-data-dir of its own.
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
  ],
});

const pages = [];
const context = {
  params,
  /** A new browser profile (its own cookies and storage): one per user. */
  async newPage(name, options = {}) {
    const browserContext = await browser.newContext({ viewport: { width: 412, height: 915 }, ...options });
    await browserContext.route("**/*", (route) => {
      const host = new URL(route.request().url()).hostname;
      return LOOPBACK.has(host) || LOOPBACK.has(`[${host}]`) ? route.continue() : route.abort("blockedbyclient");
    });
    const page = await browserContext.newPage();
    page.setDefaultTimeout(params.timeoutMs ?? 15_000);
    const errors = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => { if (message.type() === "error") errors.push(`console: ${message.text()}`); });
    pages.push({ name, page, errors });
    return page;
  },
  async screenshot(page, name) {
    await mkdir(artifacts, { recursive: true });
    // test-artifacts/ ignores itself, like pytest's cache folder.
    await writeFile(path.join(artifacts, "..", ".gitignore"), "# Screenshots of the browser tests (tests/web).\n*\n", { flag: "wx" })
      .catch(() => undefined);
    const file = path.join(artifacts, `${client}-${scenario}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  },
};

let exitCode = 0;
try {
  const module = await import(pathToFileURL(path.join(HERE, "scenarios", `${client}.mjs`)).href);
  const run = module[scenario];
  if (typeof run !== "function") throw new Error(`no scenario ${scenario} in scenarios/${client}.mjs`);
  const result = await run(context);
  process.stdout.write(`${JSON.stringify({ ok: true, result: result ?? null })}\n`);
} catch (error) {
  exitCode = 1;
  const shots = [];
  for (const { name, page } of pages) {
    try {
      shots.push(await context.screenshot(page, `failure-${name}`));
    } catch {
      // the page is gone
    }
  }
  const pageErrors = pages.flatMap(({ name, errors }) => errors.map((e) => `${name}: ${e}`));
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(error?.stack ?? error), screenshots: shots, pageErrors })}\n`);
} finally {
  await browser.close();
}
process.exit(exitCode);
