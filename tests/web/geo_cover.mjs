// Prints, for each centre read from stdin (JSON [[lat, lng], ...]), the geohash topics the
// Ask Around Me client would subscribe to (web/askaroundme/src/geo.ts, bundled as the
// browser gets it).
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const bundle = await esbuild.build({
  entryPoints: [path.join(ROOT, "web", "askaroundme", "src", "geo.ts")],
  bundle: true, write: false, format: "esm", platform: "neutral", mainFields: ["main"], logLevel: "error",
});
const geo = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString("base64")}`);
const centres = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(centres.map(([lat, lng]) => geo.coveringCells({ lat, lng }))));
