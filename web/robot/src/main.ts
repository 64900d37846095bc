/** Telepresence robot viewer: the camera (KVS WebRTC), press-and-hold driving, telemetry. */
import "@srs/web-common/base.css";
import "./app.css";

import { startClient, type ConfigReader } from "@srs/web-common";

import { RobotApp, type RobotConfig } from "./app";

const TITLE = "Telepresence robot";

/** The client's own keys of `config.json` (web/README.md). */
function readConfig(reader: ConfigReader): RobotConfig {
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
}

void startClient(TITLE, readConfig, (root, config, session, api) => new RobotApp(root, TITLE, config, session, api));
