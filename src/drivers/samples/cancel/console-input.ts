/**
 * The C run-time's getchar for the sample's console program: the keys a user types at
 * the program's console, each arriving at a moment of simulated time.
 */
import { Sleep } from "../../../io/sync-objects.js";
import { KE } from "../../../ke/kernel.js";

/** EOF: getchar's answer when no more input will come. */
export const EOF = -1;

/** Picoseconds per millisecond. */
const PS_PER_MS = 1e9;

/** What a user types: `text`, which becomes available `afterMs` milliseconds after the program starts reading. */
export class ConsoleInput {
  /** Characters not read yet. */
  private pending: string;
  /** Simulated time (ps) the text arrives at; set on the first getchar. */
  private arrivesAtPs = -1;

  constructor(text: string, readonly afterMs: number) {
    this.pending = text;
  }

  /**
   * getchar: the next character typed, waiting (non-alertably, as a console read does) until
   * the user has typed it; EOF once the text is used up.
   */
  async getchar(): Promise<number> {
    const k = KE();
    if (this.arrivesAtPs < 0) this.arrivesAtPs = k.cpu.time + this.afterMs * PS_PER_MS;
    const wait = this.arrivesAtPs - k.cpu.time;
    if (wait > 0) await Sleep(Math.ceil(wait / PS_PER_MS));
    if (this.pending === "") return EOF;
    const c = this.pending.charCodeAt(0);
    this.pending = this.pending.slice(1);
    return c;
  }
}
