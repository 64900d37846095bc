/**
 * URL shortener dashboard: the signed-in user's links, a page at a time; create, edit, delete,
 * copy the short link. Every rule about ids and URLs is the API's (its JSON schema models):
 * the page shows the API's own messages rather than repeating the rules.
 */
import "@srs/web-common/base.css";
import "./app.css";

import { Api, ConfigError, describe, loadConfig, Session, showFatal, type BaseConfig } from "@srs/web-common";

import { ShortenerApp, type ShortenerConfig } from "./app";

const TITLE = "Short links";

async function main(): Promise<void> {
  const root = document.getElementById("app")!;
  let config: ShortenerConfig & BaseConfig;
  try {
    config = await loadConfig((reader) => ({ apiUrl: reader.url("apiUrl"), shortLinkBase: reader.url("shortLinkBase") }));
  } catch (error) {
    showFatal(root, TITLE, error instanceof ConfigError ? error.message : describe(error));
    return;
  }
  const session = new Session(config.auth);
  const app = new ShortenerApp(root, TITLE, config, session, new Api(config.apiUrl, session));
  try {
    await session.start();
  } catch (error) {
    app.fail(describe(error));
  }
  app.start();
}

void main();
