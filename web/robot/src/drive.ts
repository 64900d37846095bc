/**
 * Press-and-hold driving. A held control sends its command at once and again every
 * `repeatMs` while held, each command lasting a little longer than the gap to the next, so
 * the robot moves smoothly and stops by itself (duration, then its dead-man timer) if the
 * page or the network goes away. Releasing sends a stop. A stop never waits behind a move:
 * it is sent at once, retried when it fails, and sent again if a move that was already on its
 * way is answered after it (the network may have delivered the move last).
 */

export type Action = "forward" | "backwards" | "left" | "right";

export interface DriveCommand {
  action: Action | "stop";
  speed?: number;
  duration_ms?: number;
}

export interface DriveStatus {
  /** The action being held, or null. */
  held: Action | null;
  /** The last failure a person should know about, or null after a success. */
  error: string | null;
  /** A stop was sent and confirmed (202) after the last move. */
  stopped: boolean;
}

export interface DriveOptions {
  send: (command: DriveCommand) => Promise<void>;
  onStatus: (status: DriveStatus) => void;
  speed: () => number;
  repeatMs?: number;
  durationMs?: number;
}

export const REPEAT_MS = 300;
/** Longer than the repeat gap (so the motion is continuous), well under the robot's 1.5 s dead-man time. */
export const DURATION_MS = 700;
const STOP_ATTEMPTS = 3;
const STOP_RETRY_MS = 250;

export class DriveController {
  private held: Action | null = null;
  private timer: number | undefined;
  private movesInFlight = 0;
  private stopGeneration = 0;
  private error: string | null = null;
  private stopped = true;

  constructor(private readonly options: DriveOptions) {}

  get heldAction(): Action | null {
    return this.held;
  }

  press(action: Action): void {
    if (this.held === action) return;
    this.held = action;
    window.clearInterval(this.timer);
    this.sendMove();
    this.timer = window.setInterval(() => this.sendMove(), this.options.repeatMs ?? REPEAT_MS);
    this.report();
  }

  /** The control for `action` was let go (or any control, without an action). */
  release(action?: Action): void {
    if (this.held === null || (action && action !== this.held)) return;
    this.stop();
  }

  /** Stops at once, whatever is held or on its way. */
  stop(): void {
    this.held = null;
    window.clearInterval(this.timer);
    this.timer = undefined;
    void this.sendStop();
    this.report();
  }

  private sendMove(): void {
    const action = this.held;
    if (!action) return;
    if (this.movesInFlight > 0) return; // a slow network: never queue moves behind each other
    this.movesInFlight += 1;
    this.stopped = false;
    const generation = this.stopGeneration;
    this.options.send({ action, speed: this.options.speed(), duration_ms: this.options.durationMs ?? DURATION_MS })
      .then(() => {
        if (this.error && this.held) this.setError(null);
      })
      .catch((error: unknown) => {
        if (this.held) this.setError(`The robot did not get the command: ${message(error)}`);
      })
      .finally(() => {
        this.movesInFlight -= 1;
        // A stop was sent while this move was on its way: it may have arrived after the stop.
        if (this.held === null && generation !== this.stopGeneration) void this.sendStop();
      });
  }

  private async sendStop(): Promise<void> {
    const generation = ++this.stopGeneration;
    for (let attempt = 1; attempt <= STOP_ATTEMPTS; attempt += 1) {
      try {
        await this.options.send({ action: "stop" });
        if (generation === this.stopGeneration) {
          this.stopped = true;
          this.setError(null);
        }
        return;
      } catch (error) {
        if (attempt === STOP_ATTEMPTS) {
          this.setError(`The stop did not reach the robot (${message(error)}). It stops by itself within a second and a half without commands; press Stop again.`);
          return;
        }
        await new Promise((resolve) => window.setTimeout(resolve, STOP_RETRY_MS));
      }
    }
  }

  private setError(error: string | null): void {
    this.error = error;
    this.report();
  }

  private report(): void {
    this.options.onStatus({ held: this.held, error: this.error, stopped: this.stopped });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
