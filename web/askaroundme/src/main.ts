/**
 * Ask Around Me, for a phone first: questions within 8 km on a map, asking, answering with a
 * star rating or a place, live scores over MQTT (AWS IoT Core, or the local broker).
 */
import "@srs/web-common/base.css";
import "./app.css";

import { startClient, type ConfigReader } from "@srs/web-common";

import { AskAroundMeApp, type AskAroundMeConfig } from "./app";

const TITLE = "Ask Around Me";

/** The client's own keys of `config.json` (web/README.md). */
function readConfig(reader: ConfigReader): AskAroundMeConfig {
  const realtime = reader.object("realtime");
  const mode = realtime.choice("mode", ["iot", "local"] as const);
  const tiles = reader.object("tiles");
  return {
    apiUrl: reader.url("apiUrl"),
    region: reader.string("region"),
    identityPoolId: mode === "iot" ? reader.string("identityPoolId") : reader.optionalString("identityPoolId"),
    realtime: { mode, url: mode === "local" ? realtime.url("url", ["ws:", "wss:"]) : realtime.optionalUrl("url", ["wss:"]) },
    tiles: { url: tiles.string("url"), attribution: tiles.string("attribution") },
  };
}

void startClient(TITLE, readConfig, (root, config, session, api) => new AskAroundMeApp(root, TITLE, config, session, api));
