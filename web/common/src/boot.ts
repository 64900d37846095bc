/**
 * How every client starts: read `config.json` (a fatal page naming the key at fault when it is
 * wrong), complete or restore the sign-in, then start the app. One place for the order.
 */
import { Api } from "./api";
import { describe, Session } from "./auth";
import { ConfigError, ConfigReader, loadConfig, type BaseConfig } from "./config";
import { showFatal } from "./ui";

export interface ClientApp {
  /** Shows a problem that does not stop the page (a sign-in that could not be completed). */
  fail(message: string): void;
  start(): void;
}

export async function startClient<C extends { apiUrl: string }>(
  title: string,
  read: (reader: ConfigReader) => C,
  create: (root: HTMLElement, config: C & BaseConfig, session: Session, api: Api) => ClientApp,
): Promise<void> {
  const root = document.getElementById("app")!;
  let config: C & BaseConfig;
  try {
    config = await loadConfig(read);
  } catch (error) {
    showFatal(root, title, error instanceof ConfigError ? error.message : describe(error));
    return;
  }
  const session = new Session(config.auth);
  const app = create(root, config, session, new Api(config.apiUrl, session));
  try {
    await session.start();
  } catch (error) {
    app.fail(describe(error));
  }
  app.start();
}
