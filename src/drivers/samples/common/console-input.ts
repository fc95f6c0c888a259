/**
 * The console input and the C run-time's input routines a sample's console program calls:
 * _kbhit (conio.h) on the process's console, and sscanf_s (stdio.h) with one %d or %f
 * conversion.
 *
 * A console's keyboard is attached to the calling process (attachKeyboard) before the
 * program runs; a key "pressed" at a simulated time is in the console's input buffer from
 * then on.
 */
import type { EPROCESS } from "../../../io/process.js";
import { service } from "../../../io/win32.js";

/** A console's keyboard: when a key is pressed, in simulated time (ps; Infinity: never). */
export class ConsoleInput {
  /** `keyPressAtPs`: the simulated time of the key press, ps. */
  constructor(public keyPressAtPs = Infinity) {}
}

/** The keyboard of each process's console. */
const keyboards = new WeakMap<EPROCESS, ConsoleInput>();

/** Makes `input` the calling process's console keyboard. */
export function attachKeyboard(input: ConsoleInput): void {
  service((c) => keyboards.set(c.process, input));
}

/** _kbhit: nonzero when a keystroke is waiting in the process's console input buffer. */
export function _kbhit(): number {
  return service((c) => {
    const input = keyboards.get(c.process);
    return input !== undefined && c.k.cpu.time >= input.keyPressAtPs ? 1 : 0;
  });
}

/**
 * sscanf_s(buffer, format) with one conversion, %d (a decimal int) or %f (a float): the
 * fields converted (0 when the text does not start with a number after white space, -1
 * for an empty buffer) and the value (C's out-parameter).
 */
export function sscanf_s(buffer: string, format: "%d" | "%f"): { fields: number; value: number } {
  const text = buffer.replace(/^\s+/, "");
  if (text === "") return { fields: -1, value: 0 };
  const match = format === "%d" ? /^[+-]?\d+/.exec(text) : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(text);
  if (!match) return { fields: 0, value: 0 };
  return { fields: 1, value: format === "%d" ? Number.parseInt(match[0], 10) | 0 : Math.fround(Number.parseFloat(match[0])) };
}
