import { html, nothing, render, type TemplateResult } from "lit-html";
import { live } from "lit-html/directives/live.js";

import {
  Api, ApiError, formatTime, parseTimestamp, headerView, NetworkError, noticeView, Session, SessionExpiredError, signInView,
  type BaseConfig, type Notice,
} from "@srs/web-common";

export interface ShortenerConfig {
  apiUrl: string;
  /** Where short links are served (the CloudFront URL); a link is `<shortLinkBase>/<id>`. */
  shortLinkBase: string;
}

/** A link as `GET /app` lists it. */
export interface Link {
  id: string;
  url: string;
  timestamp: string;
  updatedAt: string;
}

interface LinkPage {
  items: Link[];
  next: string | null;
}

interface CreateForm {
  id: string;
  url: string;
  busy: boolean;
  idError: string | null;
  error: string | null;
}

interface Editing {
  id: string;
  url: string;
  busy: boolean;
  error: string | null;
}

const emptyForm = (): CreateForm => ({ id: "", url: "", busy: false, idError: null, error: null });

export class ShortenerApp {
  private links: Link[] = [];
  /** Start tokens of the pages seen so far: pages[0] is null (the first page). */
  private pages: (string | null)[] = [null];
  private page = 0;
  private next: string | null = null;
  private loading = false;
  private loaded = false;
  private notice: Notice | null = null;
  private form: CreateForm = emptyForm();
  private editing: Editing | null = null;
  private copied: string | null = null;

  constructor(private readonly root: HTMLElement, private readonly title: string,
              private readonly config: ShortenerConfig & BaseConfig, private readonly session: Session,
              private readonly api: Api) {
    root.replaceChildren(); // the page's "Loading…" placeholder
    session.onChange(() => this.render());
  }

  start(): void {
    this.render();
    if (this.session.signedIn) void this.load(0);
  }

  fail(message: string): void {
    this.notice = { kind: "error", text: message };
    this.render();
  }

  shortLink(id: string): string {
    return `${this.config.shortLinkBase.replace(/\/+$/, "")}/${encodeURIComponent(id)}`;
  }

  // --- talking to the API -------------------------------------------------------------------

  private async load(page: number): Promise<void> {
    this.loading = true;
    this.render();
    try {
      const { data } = await this.api.get<LinkPage>("app", { query: { next: this.pages[page] } });
      this.links = data.items;
      this.next = data.next;
      this.page = page;
      this.pages = this.pages.slice(0, page + 1);
      if (data.next) this.pages.push(data.next);
      this.loaded = true;
    } catch (error) {
      this.showError(error, () => void this.load(page));
    } finally {
      this.loading = false;
      this.render();
    }
  }

  private async create(event: Event): Promise<void> {
    event.preventDefault();
    const id = this.form.id.trim();
    const url = this.form.url.trim();
    this.form = { ...this.form, id, url, idError: null, error: null };
    if (!id || !url) {
      this.form.error = "Give both a short id and the URL it leads to.";
      this.render();
      this.focus(!id ? "#link-id" : "#link-url");
      return;
    }
    this.form.busy = true;
    this.render();
    try {
      await this.api.post<Link>("app", { id, url });
      this.form = emptyForm();
      this.notice = { kind: "success", text: `Created ${this.shortLink(id)}` };
      await this.load(0);
      this.focus("#link-id");
    } catch (error) {
      this.form.busy = false;
      if (error instanceof ApiError && error.status === 409) {
        this.form.idError = `The id “${id}” is already taken. Choose another one.`;
        this.render();
        this.focus("#link-id");
      } else if (error instanceof ApiError && error.status === 400) {
        this.form.error = error.message;
        this.render();
        this.focus("#create-error");
      } else {
        this.showError(error);
      }
    }
  }

  private async saveEdit(event: Event): Promise<void> {
    event.preventDefault();
    const editing = this.editing;
    if (!editing) return;
    editing.busy = true;
    editing.error = null;
    this.render();
    try {
      const { data } = await this.api.put<Link>(`app/${encodeURIComponent(editing.id)}`, { url: editing.url.trim() });
      this.links = this.links.map((link) => (link.id === data.id ? { ...link, url: data.url, updatedAt: data.updatedAt } : link));
      this.editing = null;
      this.notice = { kind: "success", text: `${this.shortLink(data.id)} now leads to ${data.url}` };
      this.render();
      this.focus(`[data-edit="${CSS.escape(data.id)}"]`);
    } catch (error) {
      editing.busy = false;
      if (error instanceof ApiError && error.status === 404) {
        editing.error = `This link can no longer be changed: ${error.message}. It may have been deleted elsewhere; reload the list.`;
      } else if (error instanceof ApiError && error.status === 400) {
        editing.error = error.message;
      } else {
        this.showError(error);
        return;
      }
      this.render();
      this.focus("#edit-error");
    }
  }

  private async remove(link: Link): Promise<void> {
    if (!window.confirm(`Delete the short link ${this.shortLink(link.id)}? It stops working at once.`)) return;
    try {
      await this.api.delete(`app/${encodeURIComponent(link.id)}`);
      this.notice = { kind: "success", text: `Deleted ${this.shortLink(link.id)}` };
      const page = this.links.length === 1 && this.page > 0 ? this.page - 1 : this.page;
      await this.load(page);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.notice = { kind: "error", text: `Not deleted: ${error.message}.`, action: { label: "Reload", run: () => void this.load(this.page) } };
        this.render();
      } else {
        this.showError(error);
      }
    }
  }

  private async copy(id: string): Promise<void> {
    const text = this.shortLink(id);
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard permission (or not a secure context): select the text for a manual copy.
      const input = this.root.querySelector<HTMLInputElement>(`input[data-short="${CSS.escape(id)}"]`);
      input?.focus();
      input?.select();
      this.notice = { kind: "info", text: "Copying was refused by the browser: the link is selected, copy it with Ctrl+C or ⌘C." };
      this.render();
      return;
    }
    this.copied = id;
    this.notice = { kind: "success", text: `Copied ${text}` };
    this.render();
  }

  private showError(error: unknown, retry?: () => void): void {
    if (error instanceof SessionExpiredError) {
      this.notice = { kind: "error", text: error.message, action: { label: "Sign in again", run: () => void this.session.signIn() } };
    } else if (error instanceof NetworkError) {
      this.notice = { kind: "error", text: error.message, action: retry ? { label: "Retry", run: retry } : undefined };
    } else if (error instanceof ApiError) {
      this.notice = { kind: "error", text: error.message, action: retry ? { label: "Retry", run: retry } : undefined };
    } else {
      this.notice = { kind: "error", text: `Something went wrong: ${error instanceof Error ? error.message : String(error)}` };
    }
    this.render();
  }

  private focus(selector: string): void {
    requestAnimationFrame(() => this.root.querySelector<HTMLElement>(selector)?.focus());
  }

  // --- views --------------------------------------------------------------------------------

  render(): void {
    render(this.session.signedIn ? this.dashboard() : signInView(this.title,
      "Sign in to create short links and manage the ones you made.", this.session, this.notice), this.root);
  }

  private dashboard(): TemplateResult {
    return html`${headerView(this.title, this.session)}
      <main id="main">
        ${noticeView(this.notice)}
        ${this.createView()}
        <section aria-labelledby="links-title">
          <h2 id="links-title">Your links</h2>
          ${this.listView()}
        </section>
      </main>`;
  }

  private createView(): TemplateResult {
    const form = this.form;
    return html`<section aria-labelledby="create-title">
      <h2 id="create-title">New short link</h2>
      <form class="create" novalidate @submit=${(event: Event) => void this.create(event)}>
        <div>
          <label for="link-id">Short id</label>
          <input id="link-id" name="id" type="text" autocomplete="off" autocapitalize="off" spellcheck="false"
            .value=${live(form.id)} aria-invalid=${form.idError ? "true" : "false"}
            aria-describedby="link-id-hint${form.idError ? " link-id-error" : ""}"
            @input=${(event: InputEvent) => { this.form.id = (event.target as HTMLInputElement).value; }}>
          <p id="link-id-hint" class="hint">Letters, digits, - and _, up to 64 characters. The link will be ${this.shortLink(form.id || "your-id")}</p>
          ${form.idError ? html`<p id="link-id-error" class="field-error">${form.idError}</p>` : nothing}
        </div>
        <div>
          <label for="link-url">Leads to</label>
          <input id="link-url" name="url" type="url" inputmode="url" autocomplete="url" placeholder="https://"
            .value=${live(form.url)} aria-describedby="link-url-hint"
            @input=${(event: InputEvent) => { this.form.url = (event.target as HTMLInputElement).value; }}>
          <p id="link-url-hint" class="hint">An http:// or https:// address, up to 2048 characters.</p>
        </div>
        ${form.error ? html`<p id="create-error" class="field-error" role="alert" tabindex="-1">${form.error}</p>` : nothing}
        <div class="actions"><button class="primary" type="submit" ?disabled=${form.busy}>${form.busy ? "Creating…" : "Create short link"}</button></div>
      </form>
    </section>`;
  }

  private listView(): TemplateResult {
    if (!this.loaded) return html`<p class="status" role="status">${this.loading ? "Loading your links…" : ""}</p>`;
    const pager = html`<nav class="actions pager" aria-label="Pages of links">
      <button type="button" class="secondary" ?disabled=${this.page === 0 || this.loading} @click=${() => void this.load(this.page - 1)}>Previous page</button>
      <span class="status" aria-live="polite">Page ${this.page + 1}${this.loading ? " (loading…)" : ""}</span>
      <button type="button" class="secondary" ?disabled=${!this.next || this.loading} @click=${() => void this.load(this.page + 1)}>Next page</button>
    </nav>`;
    if (this.links.length === 0) {
      return html`<p class="status">${this.page === 0 ? "You have no links yet: create one above." : "No more links."}</p>${this.page > 0 ? pager : nothing}`;
    }
    return html`<table class="links">
        <thead><tr><th scope="col">Short link</th><th scope="col">Leads to</th><th scope="col">Updated</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>${this.links.map((link) => this.rowView(link))}</tbody>
      </table>${pager}`;
  }

  private rowView(link: Link): TemplateResult {
    const editing = this.editing?.id === link.id ? this.editing : null;
    const short = this.shortLink(link.id);
    return html`<tr data-link=${link.id}>
      <td data-label="Short link">
        <input class="short" type="text" readonly data-short=${link.id} .value=${short} aria-label="Short link ${link.id}">
        <button type="button" class="secondary" @click=${() => void this.copy(link.id)} aria-label="Copy ${short}">${this.copied === link.id ? "Copied" : "Copy"}</button>
      </td>
      <td data-label="Leads to">${editing ? this.editView(editing) : html`<a href=${link.url} rel="noopener noreferrer" class="target">${link.url}</a>`}</td>
      <td data-label="Updated"><time datetime=${parseTimestamp(link.updatedAt)?.toISOString() ?? nothing}>${formatTime(link.updatedAt)}</time></td>
      <td data-label="Actions" class="row-actions">${editing ? nothing : html`
        <button type="button" class="secondary" data-edit=${link.id} aria-label="Edit ${link.id}"
          @click=${() => { this.editing = { id: link.id, url: link.url, busy: false, error: null }; this.render(); this.focus("#edit-url"); }}>Edit</button>
        <button type="button" class="danger" aria-label="Delete ${link.id}" @click=${() => void this.remove(link)}>Delete</button>`}
      </td>
    </tr>`;
  }

  private editView(editing: Editing): TemplateResult {
    return html`<form class="edit" novalidate @submit=${(event: Event) => void this.saveEdit(event)}>
      <label for="edit-url">New address for ${editing.id}</label>
      <input id="edit-url" type="url" inputmode="url" .value=${live(editing.url)}
        aria-invalid=${editing.error ? "true" : "false"} aria-describedby=${editing.error ? "edit-error" : nothing}
        @input=${(event: InputEvent) => { editing.url = (event.target as HTMLInputElement).value; }}
        @keydown=${(event: KeyboardEvent) => { if (event.key === "Escape") { this.editing = null; this.render(); } }}>
      ${editing.error ? html`<p id="edit-error" class="field-error" role="alert" tabindex="-1">${editing.error}</p>` : nothing}
      <div class="actions">
        <button type="submit" class="primary" ?disabled=${editing.busy}>${editing.busy ? "Saving…" : "Save"}</button>
        <button type="button" class="secondary" @click=${() => { this.editing = null; this.render(); }}>Cancel</button>
      </div>
    </form>`;
  }
}
