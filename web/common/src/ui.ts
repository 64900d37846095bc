/** Page furniture the three clients share: header, sign-in screen, notices, fatal errors. */
import { html, nothing, render, type TemplateResult } from "lit-html";

import type { Session } from "./auth";

export interface Notice {
  kind: "error" | "info" | "success";
  text: string;
  /** A button next to the message (retry, sign in again). */
  action?: { label: string; run: () => void };
}

export function noticeView(notice: Notice | null, id = "notice"): TemplateResult {
  // The live region exists before its text changes, so screen readers announce each notice.
  return html`<div id=${id} class="notice-region" role=${notice?.kind === "error" ? "alert" : "status"}
      aria-live=${notice?.kind === "error" ? "assertive" : "polite"}>
    ${notice ? html`<p class="notice notice-${notice.kind}">
      <span>${notice.text}</span>
      ${notice.action ? html`<button type="button" class="secondary" @click=${notice.action.run}>${notice.action.label}</button>` : nothing}
    </p>` : nothing}
  </div>`;
}

export function headerView(title: string, session: Session): TemplateResult {
  return html`<header class="app-header">
    <h1>${title}</h1>
    ${session.signedIn ? html`<div class="who">
      <span class="user" title="Signed in">${session.displayName}</span>
      <button type="button" class="secondary" @click=${() => void session.signOut()}>Sign out</button>
    </div>` : nothing}
  </header>`;
}

export function signInView(title: string, blurb: string, session: Session, notice: Notice | null): TemplateResult {
  return html`${headerView(title, session)}
    <main id="main" class="sign-in">
      <p>${blurb}</p>
      ${noticeView(notice)}
      <button type="button" class="primary" @click=${() => void session.signIn()}>Sign in</button>
    </main>`;
}

/** Replaces the page with an error that stops the app (bad configuration, failed sign-in). */
export function showFatal(root: HTMLElement, title: string, message: string): void {
  root.replaceChildren();
  render(html`<header class="app-header"><h1>${title}</h1></header>
    <main id="main"><div role="alert" class="notice notice-error"><span>${message}</span></div>
    <p><a href="/">Start again</a></p></main>`, root);
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** API Gateway's `$context.requestTime`: `01/Dec/2026:11:06:26 +0000`. */
const REQUEST_TIME = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

/** An ISO 8601 timestamp, or API Gateway's request time format; null when it is neither. */
export function parseTimestamp(value: string | null | undefined): Date | null {
  if (!value) return null;
  const match = REQUEST_TIME.exec(value);
  if (match) {
    const [, day, month, year, hour, minute, second, sign, offsetHours, offsetMinutes] = match;
    const offset = (sign === "-" ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes));
    const utc = Date.UTC(Number(year), MONTHS.indexOf(month), Number(day), Number(hour), Number(minute), Number(second));
    return MONTHS.includes(month) ? new Date(utc - offset * 60_000) : null;
  }
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatTime(value: string | null | undefined): string {
  const date = parseTimestamp(value);
  return date ? timeFormat.format(date) : (value ?? "");
}

/** "12 seconds ago", "3 minutes ago": for how recent a report is. */
export function formatAge(fromMs: number, nowMs = Date.now()): string {
  const seconds = Math.round((fromMs - nowMs) / 1000);
  if (Math.abs(seconds) < 60) return relativeFormat.format(seconds, "second");
  const minutes = Math.round(seconds / 60);
  if (Math.abs(minutes) < 60) return relativeFormat.format(minutes, "minute");
  return relativeFormat.format(Math.round(minutes / 60), "hour");
}
