import { html, nothing, render, type TemplateResult } from "lit-html";

import {
  Api, formatAge, formatTime, headerView, identityPoolCredentials, LiveConnection, noticeView,
  randomSuffix, Session, SessionExpiredError, signedIotUrl, signInView, type BaseConfig, type CredentialSource,
  type LiveStatus, type Notice,
} from "@srs/web-common";

import { DriveController, type Action, type DriveCommand, type DriveStatus } from "./drive";
import { startViewer, type VideoStatus } from "./video";

export interface RobotConfig {
  /** The drive endpoint (the stack's ApiUrl, `.../publish`): POST a command. */
  apiUrl: string;
  region: string;
  identityPoolId: string | null;
  signalingChannelArn: string | null;
  telemetry: {
    mode: "iot" | "local";
    /** The broker's WebSocket URL (local mode; deployed, the session names the IoT endpoint). */
    url: string | null;
    /** `POST` here (the stack's SessionUrl) before connecting: it readies the viewer's identity. */
    sessionUrl: string | null;
    topic: string;
    intervalSeconds: number;
  };
}

/** `POST /session` (lambda_src/browser_iot/open_session): what the viewer may connect as. */
interface TelemetrySession {
  identityId: string;
  region: string;
  iotEndpoint: string;
  clientIdPrefix: string;
  topics: { telemetry: string };
}

/** What the robot publishes on `<robot>/telemetry` (docs/telepresence_robot_device.md, section 6). */
interface Telemetry {
  thing_name?: string;
  timestamp?: string;
  state?: string;
  uptime_s?: number;
  connection?: string;
  motors?: string;
  last_command?: { action?: string; speed?: number; duration_ms?: number } | null;
  last_command_time?: string | null;
  last_stop_reason?: string | null;
  ignored_messages?: number;
  camera?: { state?: string; restarts?: number } | null;
}

const CONTROLS: { action: Action; label: string; symbol: string; key: string; area: string }[] = [
  { action: "forward", label: "Forward", symbol: "▲", key: "ArrowUp", area: "up" },
  { action: "left", label: "Turn left", symbol: "◀", key: "ArrowLeft", area: "left" },
  { action: "right", label: "Turn right", symbol: "▶", key: "ArrowRight", area: "right" },
  { action: "backwards", label: "Backwards", symbol: "▼", key: "ArrowDown", area: "down" },
];
const KEY_ACTIONS = new Map(CONTROLS.map((control) => [control.key, control.action]));

export class RobotApp {
  private notice: Notice | null = null;
  private drive: DriveController;
  private driveStatus: DriveStatus = { held: null, error: null, stopped: true };
  private speed = 60;
  private telemetry: Telemetry | null = null;
  private telemetryAt: number | null = null;
  private readonly startedAt = Date.now();
  private liveStatus: LiveStatus = "connecting";
  private liveDetail = "";
  private videoStatus: VideoStatus | "off" = "off";
  private videoDetail = "";
  private stopVideo: (() => void) | null = null;
  private credentials: CredentialSource | null = null;
  private live: LiveConnection | null = null;

  constructor(private readonly root: HTMLElement, private readonly title: string,
              private readonly config: RobotConfig & BaseConfig, private readonly session: Session,
              private readonly api: Api) {
    root.replaceChildren(); // the page's "Loading…" placeholder
    session.onChange(() => this.render());
    this.drive = new DriveController({
      send: (command) => this.send(command),
      speed: () => this.speed,
      onStatus: (status) => {
        this.driveStatus = status;
        this.render();
      },
    });
  }

  start(): void {
    this.render();
    if (!this.session.signedIn) return;
    this.listenToKeys();
    this.startTelemetry();
    if (this.config.signalingChannelArn) void this.startVideo();
    // Re-evaluates "online" against the clock, not only when a report arrives.
    window.setInterval(() => this.render(), 1000);
  }

  fail(message: string): void {
    this.notice = { kind: "error", text: message };
    this.render();
  }

  private async send(command: DriveCommand): Promise<void> {
    try {
      await this.api.request("POST", "", { body: command });
    } catch (error) {
      if (error instanceof SessionExpiredError) this.sessionEnded(error);
      throw error;
    }
  }

  private sessionEnded(error: SessionExpiredError): void {
    this.notice = { kind: "error", text: error.message, action: { label: "Sign in again", run: () => void this.session.signIn() } };
    this.render();
  }

  private async telemetrySession(url: string): Promise<TelemetrySession> {
    try {
      return (await new Api(url, this.session).request<TelemetrySession>("POST", "", { body: {} })).data;
    } catch (error) {
      if (error instanceof SessionExpiredError) this.sessionEnded(error);
      throw error;
    }
  }

  private identityCredentials(): CredentialSource {
    this.credentials ??= identityPoolCredentials({
      region: this.config.region, identityPoolId: this.config.identityPoolId ?? "", authority: this.config.auth.authority,
      idToken: () => this.session.idToken(),
    });
    return this.credentials;
  }

  // --- keyboard and pointer -------------------------------------------------------------------

  private listenToKeys(): void {
    window.addEventListener("keydown", (event) => {
      if (isTyping(event.target)) return;
      if (event.key === " " || event.key === "Spacebar") {
        event.preventDefault();
        this.drive.stop();
        return;
      }
      const action = KEY_ACTIONS.get(event.key);
      if (!action) return;
      event.preventDefault(); // no page scrolling while driving
      if (!event.repeat) this.drive.press(action);
    });
    window.addEventListener("keyup", (event) => {
      const action = KEY_ACTIONS.get(event.key);
      if (action) this.drive.release(action);
    });
    // Never keep driving when the page cannot see the key or finger being lifted.
    window.addEventListener("blur", () => this.drive.release());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") this.drive.release();
    });
  }

  private controlView(control: (typeof CONTROLS)[number]): TemplateResult {
    const held = this.driveStatus.held === control.action;
    const press = (event: PointerEvent) => {
      if (event.button !== 0) return;
      (event.currentTarget as HTMLElement).setPointerCapture(event.pointerId);
      this.drive.press(control.action);
    };
    const release = () => this.drive.release(control.action);
    return html`<button type="button" class="drive drive-${control.area}" data-action=${control.action}
      aria-pressed=${held ? "true" : "false"} aria-keyshortcuts=${control.key}
      @pointerdown=${press} @pointerup=${release} @pointercancel=${release} @lostpointercapture=${release}
      @contextmenu=${(event: Event) => event.preventDefault()}
      @keydown=${(event: KeyboardEvent) => { if (event.key === "Enter" && !event.repeat) this.drive.press(control.action); }}
      @keyup=${(event: KeyboardEvent) => { if (event.key === "Enter") release(); }}>
      <span aria-hidden="true">${control.symbol}</span><span class="label">${control.label}</span></button>`;
  }

  // --- telemetry and video --------------------------------------------------------------------

  private startTelemetry(): void {
    const telemetry = this.config.telemetry;
    if (!telemetry.url) {
      this.liveStatus = "offline";
      this.liveDetail = "no telemetry connection is configured";
      return;
    }
    let session: TelemetrySession | null = null;
    this.live = new LiveConnection({
      target: async () => {
        // The session attaches the viewers' IoT policy to this identity (AWS IoT wants one
        // besides the role) and names the client ids it may use: `<robot>-viewer-<identity>-`.
        if (telemetry.sessionUrl) session ??= await this.telemetrySession(telemetry.sessionUrl);
        const clientId = session ? `${session.clientIdPrefix}${randomSuffix()}` : `${telemetry.topic.split("/")[0]}-viewer-${randomSuffix()}`;
        if (telemetry.mode === "local" || !session) return { url: telemetry.url!, clientId };
        const url = await signedIotUrl(session.iotEndpoint, session.region || this.config.region, this.identityCredentials());
        return { url, clientId };
      },
      onStatus: (status, detail) => {
        this.liveStatus = status;
        this.liveDetail = detail ?? "";
        this.render();
      },
      onMessage: (_topic, payload) => {
        if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return;
        this.telemetry = payload as Telemetry;
        this.telemetryAt = Date.now();
        this.render();
      },
    });
    this.live.setTopics([telemetry.topic]);
    this.live.start();
  }

  private async startVideo(): Promise<void> {
    this.stopVideo?.();
    this.stopVideo = null;
    const video = this.root.querySelector<HTMLVideoElement>("#robot-video");
    if (!video || !this.config.signalingChannelArn) return;
    try {
      this.stopVideo = await startViewer(video, {
        channelArn: this.config.signalingChannelArn, region: this.config.region, credentials: this.identityCredentials(),
        onStatus: (status, detail) => {
          this.videoStatus = status;
          this.videoDetail = detail ?? "";
          this.render();
        },
      });
    } catch (error) {
      this.videoStatus = "failed";
      this.videoDetail = error instanceof Error ? error.message : String(error);
      this.render();
    }
  }

  // --- views ----------------------------------------------------------------------------------

  render(): void {
    if (!this.session.signedIn) {
      render(signInView(this.title, "Sign in to watch the robot's camera and drive it.", this.session, this.notice), this.root);
      return;
    }
    render(html`${headerView(this.title, this.session)}
      <main id="main" class="robot">
        ${noticeView(this.notice)}
        <section class="video" aria-labelledby="video-title">
          <h2 id="video-title">Camera</h2>
          ${this.videoView()}
        </section>
        <section class="controls" aria-labelledby="drive-title">
          <h2 id="drive-title">Drive</h2>
          <p class="hint" id="drive-help">Hold an arrow (or an arrow key) to move; let go to stop. Space or the Stop button stops at once.</p>
          <div class="pad" role="group" aria-labelledby="drive-title" aria-describedby="drive-help">
            ${CONTROLS.map((control) => this.controlView(control))}
            <button type="button" class="stop" id="stop" aria-keyshortcuts="Space" @click=${() => this.drive.stop()}>Stop</button>
          </div>
          <label for="speed">Speed: ${this.speed}%</label>
          <input id="speed" type="range" min="10" max="100" step="10" .value=${String(this.speed)}
            @input=${(event: InputEvent) => { this.speed = Number((event.target as HTMLInputElement).value); this.render(); }}>
          <p class="status" id="drive-status" role="status">${this.driveStatus.held ? `Moving: ${this.driveStatus.held}` : this.driveStatus.stopped ? "Stopped" : "Stopping…"}</p>
          ${this.driveStatus.error ? html`<p class="field-error" role="alert" id="drive-error">${this.driveStatus.error}</p>` : nothing}
        </section>
        <section class="telemetry" aria-labelledby="telemetry-title">
          <h2 id="telemetry-title">Robot status</h2>
          ${this.telemetryView()}
        </section>
      </main>`, this.root);
  }

  private videoView(): TemplateResult {
    if (!this.config.signalingChannelArn) {
      return html`<div class="video-placeholder" role="note" id="video-placeholder">
        <p><strong>Video is not available locally.</strong></p>
        <p>The camera streams through Amazon Kinesis Video Streams WebRTC, which only a deployed stack provides. Driving and telemetry work here.</p>
      </div>`;
    }
    const status = { off: "Starting the video…", connecting: "Connecting to the camera…", playing: "Live", disconnected: "Video interrupted", failed: "Video unavailable" }[this.videoStatus];
    return html`<video id="robot-video" autoplay playsinline muted aria-label="The robot's camera"></video>
      <p class="status" role="status">${status}${this.videoDetail ? `: ${this.videoDetail}` : ""}</p>
      ${this.videoStatus === "failed" || this.videoStatus === "disconnected"
        ? html`<button type="button" class="secondary" @click=${() => void this.startVideo()}>Reconnect video</button>` : nothing}`;
  }

  private telemetryView(): TemplateResult {
    const intervalMs = this.config.telemetry.intervalSeconds * 1000;
    const now = Date.now();
    const since = this.telemetryAt ?? this.startedAt;
    const online = this.telemetryAt !== null && now - this.telemetryAt <= 2 * intervalMs;
    const silent = now - since > 2 * intervalMs;
    const state = online ? ["badge-online", "Online"] : silent ? ["badge-offline", "Silent"] : ["badge-waiting", "Waiting for a report"];
    const report = this.telemetry;
    return html`<p><span class="badge ${state[0]}" id="robot-online">${state[1]}</span>
      <span class="status">${this.telemetryAt !== null ? ` Last report ${formatAge(this.telemetryAt, now)}.` : silent
        ? ` No report for over ${Math.round((2 * intervalMs) / 1000)} s: the robot may be off or offline.`
        : ` The robot reports every ${this.config.telemetry.intervalSeconds} s.`}
        ${this.liveStatus === "offline" ? html` (Status feed offline: ${this.liveDetail})` : nothing}</span></p>
      ${report ? html`<dl class="report" id="telemetry-report">
        <dt>Reported at</dt><dd>${formatTime(report.timestamp)}</dd>
        <dt>State</dt><dd>${report.state ?? "unknown"}, ${report.connection ?? "unknown"}</dd>
        <dt>Motors</dt><dd>${report.motors ?? "unknown"}${report.last_stop_reason ? ` (last stop: ${report.last_stop_reason})` : ""}</dd>
        <dt>Last command</dt><dd>${report.last_command?.action ? `${report.last_command.action} at ${formatTime(report.last_command_time)}` : "none"}</dd>
        <dt>Camera</dt><dd>${report.camera?.state ?? "unknown"}</dd>
        <dt>Ignored messages</dt><dd>${report.ignored_messages ?? 0}</dd>
      </dl>` : nothing}`;
  }
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLInputElement) return target.type !== "button" && target.type !== "checkbox" && target.type !== "radio";
  return target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || target.isContentEditable;
}
