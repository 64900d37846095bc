/**
 * Ask Around Me, for a phone first: questions within 8 km on a map, asking, answering with a
 * star rating or a place, live scores over MQTT (AWS IoT Core, or the local broker).
 */
import "@srs/web-common/base.css";
import "./app.css";

import { Api, ConfigError, describe, loadConfig, Session, showFatal, type BaseConfig } from "@srs/web-common";

import { AskAroundMeApp, type AskAroundMeConfig } from "./app";

const TITLE = "Ask Around Me";

async function main(): Promise<void> {
  const root = document.getElementById("app")!;
  let config: AskAroundMeConfig & BaseConfig;
  try {
    config = await loadConfig((reader) => {
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
    });
  } catch (error) {
    showFatal(root, TITLE, error instanceof ConfigError ? error.message : describe(error));
    return;
  }
  const session = new Session(config.auth);
  const app = new AskAroundMeApp(root, TITLE, config, session, new Api(config.apiUrl, session));
  try {
    await session.start();
  } catch (error) {
    app.fail(describe(error));
  }
  app.start();
}

void main();
