/**
 * Live updates over MQTT on a WebSocket (mqtt.js): AWS IoT Core with a presigned URL, or the
 * plain broker of `make local`. The connection is rebuilt with a freshly signed URL after
 * every drop (credentials expire; a signed URL is valid for minutes), subscriptions follow the
 * topic set the page asks for, and every message is parsed as JSON or dropped.
 */
import mqtt, { type MqttClient } from "mqtt";

import { SessionExpiredError } from "./auth";

export type LiveStatus = "connecting" | "online" | "offline";

export interface LiveOptions {
  /** Where and as whom to connect, worked out again for each attempt (a new signature each time). */
  target: () => Promise<{ url: string; clientId: string }>;
  onMessage: (topic: string, payload: unknown) => void;
  onStatus: (status: LiveStatus, detail?: string) => void;
  /** Called after a reconnection: messages may have been missed, reload what is shown. */
  onResync?: () => void;
}

/** AWS IoT takes at most 8 topic filters per SUBSCRIBE. */
const FILTERS_PER_SUBSCRIBE = 8;
const RETRY_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

export class LiveConnection {
  private client: MqttClient | null = null;
  private wanted = new Set<string>();
  private subscribed = new Set<string>();
  private attempt = 0;
  private retryTimer: number | undefined;
  private stopped = true;
  private connectedOnce = false;

  constructor(private readonly options: LiveOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    this.client?.end(true);
    this.client = null;
    this.subscribed.clear();
  }

  /** The topics to be subscribed to from now on; the difference is (un)subscribed at once. */
  setTopics(topics: Iterable<string>): void {
    this.wanted = new Set(topics);
    this.sync();
  }

  private async connect(): Promise<void> {
    this.options.onStatus("connecting");
    let target: { url: string; clientId: string };
    try {
      target = await this.options.target();
    } catch (error) {
      if (error instanceof SessionExpiredError) {
        this.stop(); // retrying cannot help until the user signs in again
        this.options.onStatus("offline", error.message);
        return;
      }
      this.scheduleRetry(error instanceof Error ? error.message : String(error));
      return;
    }
    if (this.stopped) return;
    const client = mqtt.connect(target.url, {
      clientId: target.clientId,
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: 0, // reconnections sign a new URL: done here, not by mqtt.js
    });
    this.client = client;
    client.on("connect", () => {
      this.attempt = 0;
      this.subscribed.clear();
      this.options.onStatus("online");
      this.sync();
      if (this.connectedOnce) this.options.onResync?.();
      this.connectedOnce = true;
    });
    client.on("message", (topic, payload) => {
      let message: unknown;
      try {
        message = JSON.parse(new TextDecoder().decode(payload));
      } catch {
        return; // not JSON: nothing a page can show
      }
      this.options.onMessage(topic, message);
    });
    client.on("error", () => undefined); // followed by close, handled there
    client.on("close", () => {
      if (this.client !== client) return;
      this.client = null;
      client.end(true);
      if (!this.stopped) this.scheduleRetry("connection lost");
    });
  }

  private scheduleRetry(reason: string): void {
    const delay = RETRY_DELAYS_MS[Math.min(this.attempt, RETRY_DELAYS_MS.length - 1)];
    this.attempt += 1;
    this.options.onStatus("offline", `${reason}; retrying in ${Math.round(delay / 1000)} s`);
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => void this.connect(), delay);
  }

  private sync(): void {
    const client = this.client;
    if (!client?.connected) return;
    const add = [...this.wanted].filter((topic) => !this.subscribed.has(topic));
    const remove = [...this.subscribed].filter((topic) => !this.wanted.has(topic));
    for (let i = 0; i < remove.length; i += FILTERS_PER_SUBSCRIBE) {
      const batch = remove.slice(i, i + FILTERS_PER_SUBSCRIBE);
      batch.forEach((topic) => this.subscribed.delete(topic));
      client.unsubscribe(batch);
    }
    for (let i = 0; i < add.length; i += FILTERS_PER_SUBSCRIBE) {
      const batch = add.slice(i, i + FILTERS_PER_SUBSCRIBE);
      batch.forEach((topic) => this.subscribed.add(topic));
      client.subscribe(batch, { qos: 0 }, (error) => {
        if (error) batch.forEach((topic) => this.subscribed.delete(topic));
      });
    }
  }
}

/** A client id suffix unique to this tab. */
export function randomSuffix(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
}
