/**
 * JSON over fetch to the suite's APIs: the bearer token, a deadline, and errors a person can
 * act on (the API's own message, a network failure, a session that has expired).
 */
import { Session, SessionExpiredError } from "./auth";
import { apiUrl } from "./config";

/** The API answered with an error; `message` is the API's own message when it sent one. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(readonly status: number, message: string, readonly body: unknown) {
    super(message);
  }
}

/** The API could not be reached, or did not answer in time. */
export class NetworkError extends Error {
  override name = "NetworkError";
}

export interface ApiResponse<T> {
  status: number;
  data: T;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export class Api {
  constructor(private readonly base: string, private readonly session: Session,
              private readonly timeoutMs = DEFAULT_TIMEOUT_MS) {}

  get<T>(path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    return this.request<T>("GET", path, options);
  }

  post<T>(path: string, body: unknown): Promise<ApiResponse<T>> {
    return this.request<T>("POST", path, { body });
  }

  put<T>(path: string, body: unknown): Promise<ApiResponse<T>> {
    return this.request<T>("PUT", path, { body });
  }

  delete<T>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>("DELETE", path);
  }

  /** One request; a 401 is retried once after renewing the tokens, then SessionExpiredError. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = apiUrl(this.base, path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
    }
    let response = await this.send(method, url, options.body);
    if (response.status === 401 && (await this.session.renew())) response = await this.send(method, url, options.body);
    if (response.status === 401) {
      await this.session.expire();
      throw new SessionExpiredError();
    }
    const data = await readBody(response);
    if (!response.ok) throw new ApiError(response.status, errorMessage(response.status, data), data);
    return { status: response.status, data: data as T };
  }

  private async send(method: string, url: URL, body: unknown): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${await this.session.token()}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
        cache: "no-store",
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === "TimeoutError") {
        throw new NetworkError(`${url.host} did not answer within ${this.timeoutMs / 1000} s. Try again.`);
      }
      throw new NetworkError(`Could not reach ${url.host}. Check your connection and try again.`);
    }
  }
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorMessage(status: number, body: unknown): string {
  if (typeof body === "object" && body !== null && typeof (body as { message?: unknown }).message === "string") {
    return (body as { message: string }).message;
  }
  if (status === 429) return "Too many requests: wait a moment and try again.";
  if (status >= 500) return `The service failed (HTTP ${status}). Try again.`;
  return `The request was refused (HTTP ${status}).`;
}
