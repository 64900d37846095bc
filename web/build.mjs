// Builds every web client (web/<client>/src/main.ts and index.html) into web/<client>/dist/:
// one minified ES module and one stylesheet with content hashes in their names (cacheable
// for ever), their source maps and third-party licence texts, and index.html pointing at them.
// config.json is not part of a build: the host (a stack, or `make local`) writes it.
// Usage: node web/build.mjs [client ...]   (default: every client)
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const WEB = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
// The KVS WebRTC SDK reads its version from process.env.PACKAGE_VERSION, which its own build
// defines; browsers have no `process`.
const KVS_VERSION = require("amazon-kinesis-video-streams-webrtc/package.json").version;
const SHARED_STATIC = path.join(WEB, "common", "static");

async function clients() {
  const names = [];
  for (const entry of await readdir(WEB, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    try {
      await stat(path.join(WEB, entry.name, "src", "main.ts"));
      names.push(entry.name);
    } catch {
      // not a client (web/common)
    }
  }
  return names.sort();
}

async function build(client) {
  const dir = path.join(WEB, client);
  const dist = path.join(dir, "dist");
  await rm(dist, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: [path.join(dir, "src", "main.ts")],
    bundle: true,
    outdir: path.join(dist, "assets"),
    entryNames: "app-[hash]",
    assetNames: "[name]-[hash]",
    format: "esm",
    platform: "browser",
    target: ["es2022", "chrome109", "firefox115", "safari16"],
    minify: true,
    sourcemap: "linked",
    legalComments: "linked",
    metafile: true,
    logLevel: "warning",
    loader: { ".png": "file", ".svg": "file" },
    define: {
      "process.env.NODE_ENV": '"production"',
      "process.env.PACKAGE_VERSION": JSON.stringify(KVS_VERSION),
      global: "globalThis",
    },
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => path.relative(dist, file).split(path.sep).join("/"));
  const script = outputs.find((file) => /^assets\/app-[^/]+\.js$/.test(file));
  const style = outputs.find((file) => /^assets\/app-[^/]+\.css$/.test(file));
  if (!script || !style) throw new Error(`${client}: the build produced no app script or stylesheet`);
  const page = (await readFile(path.join(dir, "index.html"), "utf8"))
    .replaceAll("%APP_JS%", `/${script}`)
    .replaceAll("%APP_CSS%", `/${style}`);
  await writeFile(path.join(dist, "index.html"), page);
  for (const file of await readdir(SHARED_STATIC)) await copyFile(path.join(SHARED_STATIC, file), path.join(dist, file));
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  console.log(`web/${client}/dist: ${script}, ${style} (${Math.round(bytes / 1024)} KiB with maps)`);
}

const wanted = process.argv.slice(2);
const all = await clients();
const unknown = wanted.filter((name) => !all.includes(name));
if (unknown.length) {
  console.error(`unknown client(s): ${unknown.join(", ")}; the clients are ${all.join(", ")}`);
  process.exit(2);
}
await mkdir(SHARED_STATIC, { recursive: true });
for (const client of wanted.length ? wanted : all) await build(client);
