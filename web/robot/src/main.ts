/** Telepresence robot viewer: the camera (KVS WebRTC), press-and-hold driving, telemetry. */
import "@srs/web-common/base.css";
import "./app.css";

import { Api, ConfigError, describe, loadConfig, Session, showFatal, type BaseConfig } from "@srs/web-common";

import { RobotApp, type RobotConfig } from "./app";

const TITLE = "Telepresence robot";

async function main(): Promise<void> {
  const root = document.getElementById("app")!;
  let config: RobotConfig & BaseConfig;
  try {
    config = await loadConfig((reader) => {
      const telemetry = reader.object("telemetry");
      const mode = telemetry.choice("mode", ["iot", "local"] as const);
      const signalingChannelArn = reader.optionalString("signalingChannelArn");
      const identityPoolId = signalingChannelArn || mode === "iot" ? reader.string("identityPoolId") : reader.optionalString("identityPoolId");
      return {
        apiUrl: reader.url("apiUrl"),
        region: reader.string("region"),
        identityPoolId,
        signalingChannelArn,
        telemetry: {
          mode,
          url: telemetry.optionalUrl("url", mode === "local" ? ["ws:", "wss:"] : ["wss:"]),
          sessionUrl: mode === "iot" ? telemetry.url("sessionUrl") : telemetry.optionalUrl("sessionUrl"),
          topic: telemetry.string("topic"),
          intervalSeconds: telemetry.number("intervalSeconds", 1, 3600),
        },
      };
    });
  } catch (error) {
    showFatal(root, TITLE, error instanceof ConfigError ? error.message : describe(error));
    return;
  }
  const session = new Session(config.auth);
  const app = new RobotApp(root, TITLE, config, session, new Api(config.apiUrl, session));
  try {
    await session.start();
  } catch (error) {
    app.fail(describe(error));
  }
  app.start();
}

void main();
