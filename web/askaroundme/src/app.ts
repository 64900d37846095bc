import { html, nothing, render, type TemplateResult } from "lit-html";
import { live } from "lit-html/directives/live.js";

import {
  Api, ApiError, headerView, identityPoolCredentials, LiveConnection, NetworkError, noticeView, randomSuffix, Session,
  SessionExpiredError, signedIotUrl, signInView, type BaseConfig, type CredentialSource, type LiveStatus, type Notice,
} from "@srs/web-common";

import { coveringCells, distanceM, formatDistance, SEARCH_RADIUS_M, type Point } from "./geo";
import { QuestionMap } from "./map";

export interface AskAroundMeConfig {
  apiUrl: string;
  region: string;
  identityPoolId: string | null;
  realtime: { mode: "iot" | "local"; url: string | null };
  tiles: { url: string; attribution: string };
}

type QuestionType = "star" | "geo";

/** A question as `GET /questions` and the `question.created` message give it. */
interface Question {
  questionId: string;
  type: QuestionType;
  text: string;
  author: string;
  created: string;
  lat: number;
  lng: number;
  answerCount: number;
  avgScore: number;
  /** Stream sequence number of the last summary applied (drops older, late messages). */
  seq?: string | null;
}

/** `POST /realtime/session`. */
interface RealtimeSession {
  identityId: string;
  region: string;
  iotEndpoint: string;
  clientIdPrefix: string;
  topics: { geo: string; question: string; user: string; system: string };
}

interface Draft {
  rating: number | null;
  point: Point | null;
  busy: boolean;
  error: string | null;
}

interface AskForm {
  text: string;
  type: QuestionType;
  busy: boolean;
  error: string | null;
}

/** AWS IoT's default limit of subscriptions per connection. */
const MAX_SUBSCRIPTIONS = 50;
const MAX_TEXT_LENGTH = 280;
const RATINGS = [0, 1, 2, 3, 4, 5];
/** While live updates are down, the list is reloaded this often. */
const POLL_MS = 30_000;
/** After asking, the list is reloaded after these delays in case the live message is missed. */
const ASK_REFRESH_MS = [2_000, 6_000];

/** Stream sequence numbers are decimal strings of up to 40 digits: compare by length, then text. */
export function newerSequence(candidate: string | null | undefined, current: string | null | undefined): boolean {
  if (!candidate) return true;
  if (!current) return true;
  if (candidate.length !== current.length) return candidate.length > current.length;
  return candidate > current;
}

export class AskAroundMeApp {
  private location: Point | null = null;
  /** Where `location` came from: the device's geolocation, or a place the user tapped. */
  private locationSource: "device" | "map" | null = null;
  private locationNote = "Finding where you are…";
  private watchId: number | null = null;
  private questions = new Map<string, Question>();
  private asked = new Map<string, { text: string; type: QuestionType }>();
  private selectedId: string | null = null;
  private heatmap: Map<string, number> | null = null;
  private draft: Draft = { rating: null, point: null, busy: false, error: null };
  private form: AskForm = { text: "", type: "star", busy: false, error: null };
  private notice: Notice | null = null;
  private loaded = false;
  private liveStatus: LiveStatus = "connecting";
  private liveDetail = "";
  private realtime: RealtimeSession | null = null;
  private credentials: CredentialSource | null = null;
  private liveConnection: LiveConnection | null = null;
  private map: QuestionMap | null = null;

  constructor(private readonly root: HTMLElement, private readonly title: string,
              private readonly config: AskAroundMeConfig & BaseConfig, private readonly session: Session,
              private readonly api: Api) {
    root.replaceChildren(); // the page's "Loading…" placeholder
    session.onChange(() => this.render());
  }

  start(): void {
    this.render();
    if (!this.session.signedIn) return;
    this.locate();
    this.startLive();
    window.setInterval(() => {
      if (this.liveStatus !== "online" && this.location) void this.loadQuestions();
    }, POLL_MS);
  }

  fail(message: string): void {
    this.notice = { kind: "error", text: message };
    this.render();
  }

  // --- location -------------------------------------------------------------------------------

  private locate(): void {
    if (!("geolocation" in navigator)) {
      this.locationNote = "This browser cannot tell where you are: tap the map to choose your place.";
      this.render();
      return;
    }
    if (this.watchId !== null) navigator.geolocation.clearWatch(this.watchId);
    this.locationNote = "Finding where you are…";
    this.render();
    this.watchId = navigator.geolocation.watchPosition(
      (position) => this.setLocation({ lat: position.coords.latitude, lng: position.coords.longitude }, "device"),
      (error) => {
        this.locationNote = error.code === error.PERMISSION_DENIED
          ? "Location is off for this site. Allow it in your browser, or tap the map to choose your place."
          : "Your location is not available right now. Tap the map to choose your place, or try again.";
        this.render();
      },
      { enableHighAccuracy: false, maximumAge: 60_000, timeout: 20_000 },
    );
  }

  private setLocation(point: Point, source: "device" | "map"): void {
    const moved = !this.location || distanceM(this.location, point) > 250;
    this.location = point;
    this.locationSource = source;
    this.locationNote = `Showing questions within ${SEARCH_RADIUS_M / 1000} km of ${source === "map" ? "the place you chose" : "you"}.`;
    this.map?.setUser(point);
    if (moved) void this.loadQuestions();
    this.updateTopics();
    this.render();
  }

  private pick(point: Point): void {
    const selected = this.selected();
    if (selected?.type === "geo") {
      this.draft = { ...this.draft, point, error: null };
      this.map?.setAnswerPoint(point);
      this.render();
      return;
    }
    if (this.locationSource !== "device") {
      // No device location (refused or unavailable): the tapped place stands in for it.
      if (this.watchId !== null) navigator.geolocation.clearWatch(this.watchId);
      this.watchId = null;
      this.setLocation(point, "map");
    }
  }

  // --- API ------------------------------------------------------------------------------------

  private async loadQuestions(): Promise<void> {
    const location = this.location;
    if (!location) return;
    try {
      const { data } = await this.api.get<{ questions: Question[] }>("questions", { query: { lat: location.lat, lng: location.lng } });
      const fresh = new Map(data.questions.map((question) => [question.questionId, question]));
      if (this.selectedId && !fresh.has(this.selectedId)) {
        const selected = this.questions.get(this.selectedId);
        if (selected) fresh.set(selected.questionId, selected); // keep what the user is looking at
      }
      this.questions = fresh;
      for (const id of fresh.keys()) this.asked.delete(id);
      this.loaded = true;
      if (this.notice?.action?.label === "Retry") this.notice = null;
      this.updateTopics();
    } catch (error) {
      this.showError(error, () => void this.loadQuestions());
    }
    this.render();
  }

  private async ask(event: Event): Promise<void> {
    event.preventDefault();
    const location = this.location;
    const text = this.form.text.trim();
    if (!location) {
      this.form.error = "Your location is needed to ask: allow it, or tap the map to choose your place.";
    } else if (!text) {
      this.form.error = "Write your question first.";
    }
    if (!location || !text) {
      this.render();
      this.focus("#ask-error");
      return;
    }
    this.form = { ...this.form, text, busy: true, error: null };
    this.render();
    try {
      const { data } = await this.api.post<{ questionId: string; created: string }>("questions", {
        text, type: this.form.type, lat: location.lat, lng: location.lng,
      });
      this.asked.set(data.questionId, { text, type: this.form.type });
      this.form = { text: "", type: this.form.type, busy: false, error: null };
      this.notice = { kind: "success", text: "Your question was sent. It appears in the list as soon as it is saved." };
      this.updateTopics();
      for (const delay of ASK_REFRESH_MS) window.setTimeout(() => { if (this.asked.has(data.questionId)) void this.loadQuestions(); }, delay);
    } catch (error) {
      this.form.busy = false;
      if (error instanceof ApiError && error.status === 400) this.form.error = error.message;
      else this.showError(error);
    }
    this.render();
  }

  private async answer(event: Event): Promise<void> {
    event.preventDefault();
    const question = this.selected();
    if (!question) return;
    let body: Record<string, unknown>;
    if (question.type === "star") {
      if (this.draft.rating === null) {
        this.draft.error = "Choose a rating from 0 to 5 stars first.";
        this.render();
        return;
      }
      body = { questionId: question.questionId, type: "star", rating: this.draft.rating };
    } else {
      if (!this.draft.point) {
        this.draft.error = "Tap the map where your answer is, or use your location or the map's centre.";
        this.render();
        return;
      }
      body = { questionId: question.questionId, type: "geo", lat: this.draft.point.lat, lng: this.draft.point.lng };
    }
    this.draft = { ...this.draft, busy: true, error: null };
    this.render();
    try {
      await this.api.post("answers", body);
      this.draft = { rating: null, point: null, busy: false, error: null };
      this.map?.setAnswerPoint(null);
      this.notice = { kind: "success", text: "Thanks! Your answer is counted in a moment." };
    } catch (error) {
      this.draft.busy = false;
      if (error instanceof ApiError && (error.status === 400 || error.status === 404)) this.draft.error = error.message;
      else this.showError(error);
    }
    this.render();
  }

  private async select(questionId: string | null): Promise<void> {
    this.selectedId = questionId;
    this.draft = { rating: null, point: null, busy: false, error: null };
    this.heatmap = null;
    this.map?.setAnswerPoint(null);
    this.map?.setHeatmap(null);
    this.updateTopics();
    this.render();
    const question = this.selected();
    if (!question) {
      this.focus("#questions-title");
      return;
    }
    this.map?.focusOn(question);
    this.focus("#question-title");
    if (question.type === "geo") await this.loadHeatmap(question.questionId);
  }

  private async loadHeatmap(questionId: string): Promise<void> {
    try {
      const { data } = await this.api.get<{ cells: { geohash: string; count: number }[] }>(`questions/${encodeURIComponent(questionId)}/heatmap`);
      if (this.selectedId !== questionId) return;
      this.heatmap = new Map(data.cells.map((cell) => [cell.geohash, cell.count]));
      this.map?.setHeatmap(this.heatmap);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) this.heatmap = new Map(); // not saved yet: no answers either
      else this.showError(error, () => void this.loadHeatmap(questionId));
    }
    this.render();
  }

  // --- live updates ---------------------------------------------------------------------------

  private startLive(): void {
    const realtime = this.config.realtime;
    this.liveConnection = new LiveConnection({
      target: async () => {
        this.realtime ??= (await this.api.post<RealtimeSession>("realtime/session", {})).data;
        const clientId = `${this.realtime.clientIdPrefix}${randomSuffix()}`;
        if (realtime.mode === "local") return { url: realtime.url!, clientId };
        this.credentials ??= identityPoolCredentials({
          region: this.config.region, identityPoolId: this.config.identityPoolId ?? "", authority: this.config.auth.authority,
          idToken: () => this.session.idToken(), identityId: this.realtime.identityId,
        });
        return { url: await signedIotUrl(this.realtime.iotEndpoint, this.realtime.region || this.config.region, this.credentials), clientId };
      },
      onStatus: (status, detail) => {
        this.liveStatus = status;
        this.liveDetail = detail ?? "";
        if (status === "online") this.updateTopics();
        this.render();
      },
      onResync: () => void this.loadQuestions(),
      onMessage: (topic, payload) => this.onMessage(topic, payload),
    });
    this.liveConnection.start();
  }

  private topic(template: "geo" | "question", value: string): string | null {
    const pattern = this.realtime?.topics[template];
    return pattern ? pattern.replace(/<[^>]+>/, value) : null;
  }

  /** Geo cells around the user first, then the user's own and selected questions, then the nearest listed ones. */
  private updateTopics(): void {
    if (!this.liveConnection || !this.realtime) return;
    const topics: string[] = [this.realtime.topics.system, this.realtime.topics.user];
    if (this.location) {
      const budget = MAX_SUBSCRIPTIONS - topics.length - 1 - this.asked.size;
      for (const cell of coveringCells(this.location, SEARCH_RADIUS_M, Math.max(0, budget))) topics.push(this.topic("geo", cell)!);
    }
    const wanted = [this.selectedId, ...this.asked.keys(), ...[...this.questions.values()]
      .filter((question) => question.author === this.session.subject).map((question) => question.questionId),
    ...this.sortedQuestions().map((question) => question.questionId)];
    for (const id of wanted) {
      if (topics.length >= MAX_SUBSCRIPTIONS) break;
      const topic = id ? this.topic("question", id) : null;
      if (topic && !topics.includes(topic)) topics.push(topic);
    }
    this.liveConnection.setTopics(topics);
  }

  private onMessage(_topic: string, payload: unknown): void {
    if (typeof payload !== "object" || payload === null) return;
    const message = payload as Record<string, unknown>;
    if (message.event === "question.created" && isQuestion(message)) {
      const question = message as unknown as Question;
      if (!this.location || distanceM(this.location, question) > SEARCH_RADIUS_M) return;
      if (!this.questions.has(question.questionId)) {
        this.questions.set(question.questionId, question);
        this.asked.delete(question.questionId);
        this.updateTopics();
        this.render();
      }
    } else if (message.event === "question.summary" && typeof message.questionId === "string") {
      const question = this.questions.get(message.questionId);
      if (!question || !newerSequence(message.seq as string | null, question.seq)) return;
      if (typeof message.answerCount === "number") question.answerCount = message.answerCount;
      if (typeof message.avgScore === "number") question.avgScore = message.avgScore;
      question.seq = (message.seq as string | null) ?? question.seq;
      if (question.questionId === this.selectedId && this.heatmap && typeof message.cells === "object" && message.cells) {
        for (const [cell, count] of Object.entries(message.cells as Record<string, unknown>)) {
          if (typeof count !== "number") continue;
          if (count > 0) this.heatmap.set(cell, count);
          else this.heatmap.delete(cell);
        }
        this.map?.setHeatmap(this.heatmap);
      }
      this.render();
    }
  }

  // --- helpers --------------------------------------------------------------------------------

  private selected(): Question | null {
    return this.selectedId ? this.questions.get(this.selectedId) ?? null : null;
  }

  private sortedQuestions(): Question[] {
    const here = this.location;
    const list = [...this.questions.values()];
    return here ? list.sort((a, b) => distanceM(here, a) - distanceM(here, b)) : list;
  }

  private showError(error: unknown, retry?: () => void): void {
    if (error instanceof SessionExpiredError) {
      this.liveConnection?.stop();
      this.notice = { kind: "error", text: error.message, action: { label: "Sign in again", run: () => void this.session.signIn() } };
    } else if (error instanceof NetworkError || error instanceof ApiError) {
      this.notice = { kind: "error", text: error.message, action: retry ? { label: "Retry", run: retry } : undefined };
    } else {
      this.notice = { kind: "error", text: `Something went wrong: ${error instanceof Error ? error.message : String(error)}` };
    }
    this.render();
  }

  private focus(selector: string): void {
    requestAnimationFrame(() => this.root.querySelector<HTMLElement>(selector)?.focus());
  }

  // --- views ----------------------------------------------------------------------------------

  render(): void {
    if (!this.session.signedIn) {
      render(signInView(this.title, "Ask the people around you, and answer what they ask: sign in to start.", this.session, this.notice), this.root);
      return;
    }
    render(html`${headerView(this.title, this.session)}
      <div class="layout">
        <div id="map" class="map" role="region" aria-label="Map of the questions near you. Tap it to choose a place."></div>
        <main id="main" class="panel">
          ${noticeView(this.notice)}
          ${this.statusView()}
          ${this.selected() ? this.questionView(this.selected()!) : html`${this.askView()}${this.listView()}`}
        </main>
      </div>`, this.root);
    const element = this.root.querySelector<HTMLElement>("#map")!;
    if (this.map?.element !== element) {
      this.map = new QuestionMap(element, this.config.tiles, { onPick: (point) => this.pick(point), onSelect: (id) => void this.select(id) });
      this.map.setUser(this.location);
    }
    this.map.setQuestions(this.sortedQuestions(), this.selectedId);
  }

  private statusView(): TemplateResult {
    const badge = { online: ["badge-online", "Live"], connecting: ["badge-waiting", "Connecting…"], offline: ["badge-offline", "Offline"] }[this.liveStatus];
    return html`<div class="status-bar">
      <p class="status" id="location-note">${this.locationNote}</p>
      <div class="actions">
        <button type="button" class="secondary" @click=${() => this.locate()}>Use my location</button>
        <span class="badge ${badge[0]}" id="live-status" title=${this.liveDetail}>${badge[1]}${this.liveStatus === "offline" && this.liveDetail ? html`<span class="visually-hidden">: ${this.liveDetail}</span>` : nothing}</span>
      </div>
    </div>`;
  }

  private askView(): TemplateResult {
    const form = this.form;
    return html`<details class="ask" ?open=${form.text !== "" || form.error !== null}>
      <summary>Ask a question</summary>
      <form novalidate @submit=${(event: Event) => void this.ask(event)}>
        <label for="question-text">Your question</label>
        <textarea id="question-text" rows="3" maxlength=${MAX_TEXT_LENGTH} .value=${live(form.text)}
          aria-describedby="question-count"
          @input=${(event: InputEvent) => { this.form.text = (event.target as HTMLTextAreaElement).value; this.render(); }}></textarea>
        <p class="hint" id="question-count">${form.text.length} of ${MAX_TEXT_LENGTH} characters</p>
        <fieldset class="choice">
          <legend>People answer with</legend>
          ${(["star", "geo"] as const).map((type) => html`<label class="inline">
            <input type="radio" name="question-type" value=${type} .checked=${live(form.type === type)}
              @change=${() => { this.form.type = type; }}>
            ${type === "star" ? "A rating, 0 to 5 stars" : "A place on the map"}</label>`)}
        </fieldset>
        ${form.error ? html`<p id="ask-error" class="field-error" role="alert" tabindex="-1">${form.error}</p>` : nothing}
        <div class="actions"><button class="primary" type="submit" ?disabled=${form.busy || !this.location}>${form.busy ? "Sending…" : "Ask"}</button></div>
        ${this.location ? nothing : html`<p class="hint">Asking needs your location.</p>`}
      </form>
    </details>`;
  }

  private listView(): TemplateResult {
    const here = this.location;
    const questions = this.sortedQuestions();
    return html`<section aria-labelledby="questions-title">
      <h2 id="questions-title" tabindex="-1">Questions near you</h2>
      ${this.asked.size ? html`<ul class="pending">${[...this.asked.values()].map((q) => html`<li>Saving your question “${q.text}”…</li>`)}</ul>` : nothing}
      ${!here ? nothing : !this.loaded ? html`<p class="status" role="status">Loading questions…</p>`
        : questions.length === 0 ? html`<p class="status">No open questions within ${SEARCH_RADIUS_M / 1000} km. Ask the first one!</p>`
        : html`<ul class="questions">${questions.map((question) => html`<li>
            <button type="button" class="question" data-question=${question.questionId} @click=${() => void this.select(question.questionId)}>
              <span class="text">${question.text}</span>
              <span class="meta">${summary(question)} · ${formatDistance(distanceM(here, question))} away${question.author === this.session.subject ? " · yours" : ""}</span>
            </button></li>`)}</ul>`}
    </section>`;
  }

  private questionView(question: Question): TemplateResult {
    const draft = this.draft;
    return html`<section aria-labelledby="question-title" class="question-detail">
      <button type="button" class="secondary" @click=${() => void this.select(null)}>← All questions</button>
      <h2 id="question-title" tabindex="-1">${question.text}</h2>
      <p class="score" id="question-summary" aria-live="polite">${summary(question)}</p>
      <form novalidate @submit=${(event: Event) => void this.answer(event)}>
        ${question.type === "star" ? html`<fieldset class="stars">
            <legend>Your rating</legend>
            ${RATINGS.map((rating) => html`<label class="star">
              <input type="radio" name="rating" value=${rating} .checked=${live(draft.rating === rating)}
                @change=${() => { this.draft.rating = rating; this.render(); }}>
              <span aria-hidden="true">${rating === 0 ? "☆" : "★".repeat(rating)}</span>
              <span class="visually-hidden">${rating} star${rating === 1 ? "" : "s"}</span></label>`)}
          </fieldset>`
        : html`<p class="hint">Tap the map where your answer is${draft.point ? "" : ", or use one of these"}.</p>
          <p class="status" id="answer-point">${draft.point ? `Your answer: ${draft.point.lat.toFixed(5)}, ${draft.point.lng.toFixed(5)}` : "No place chosen yet."}</p>
          <div class="actions">
            <button type="button" class="secondary" ?disabled=${!this.location} @click=${() => this.location && this.pick(this.location)}>Use my location</button>
            <button type="button" class="secondary" @click=${() => this.map && this.pick(this.map.centre)}>Use the map's centre</button>
          </div>`}
        ${draft.error ? html`<p class="field-error" role="alert">${draft.error}</p>` : nothing}
        <div class="actions"><button class="primary" type="submit" ?disabled=${draft.busy}>${draft.busy ? "Sending…" : "Send my answer"}</button></div>
      </form>
      ${question.type === "geo" ? this.heatmapView() : nothing}
    </section>`;
  }

  private heatmapView(): TemplateResult {
    if (!this.heatmap) return html`<p class="status">Loading the heat map…</p>`;
    const cells = [...this.heatmap.entries()].filter(([, count]) => count > 0).sort((a, b) => b[1] - a[1]);
    return html`<h3>Where people answered</h3>
      ${cells.length === 0 ? html`<p class="status">No answers yet.</p>` : html`<p class="hint">Darker squares on the map hold more answers.</p>
        <ol class="heat-list" aria-label="Busiest areas">${cells.slice(0, 5).map(([cell, count]) => html`<li data-cell=${cell}>${count} answer${count === 1 ? "" : "s"} in area ${cell}</li>`)}</ol>`}`;
  }
}

function isQuestion(message: Record<string, unknown>): boolean {
  return typeof message.questionId === "string" && (message.type === "star" || message.type === "geo")
    && typeof message.text === "string" && typeof message.lat === "number" && typeof message.lng === "number";
}

function summary(question: Question): string {
  const answers = `${question.answerCount} answer${question.answerCount === 1 ? "" : "s"}`;
  return question.type === "star" && question.answerCount > 0 ? `★ ${question.avgScore.toFixed(1)} average, ${answers}` : answers;
}
