/**
 * URL shortener dashboard: the signed-in user's links, a page at a time; create, edit, delete,
 * copy the short link. Every rule about ids and URLs is the API's (its JSON schema models):
 * the page shows the API's own messages rather than repeating the rules.
 */
import "@srs/web-common/base.css";
import "./app.css";

import { startClient, type ConfigReader } from "@srs/web-common";

import { ShortenerApp, type ShortenerConfig } from "./app";

const TITLE = "Short links";

function readConfig(reader: ConfigReader): ShortenerConfig {
  return { apiUrl: reader.url("apiUrl"), shortLinkBase: reader.url("shortLinkBase") };
}

void startClient(TITLE, readConfig, (root, config, session, api) => new ShortenerApp(root, TITLE, config, session, api));
