/**
 * The inspection dispatcher: a WinDbg kernel-extension command line ("!devnode 0 1")
 * to the command that prints it. Commands only read the machine: they may run at the
 * end of a run, after a bug check, or between two steps of a test.
 */
import { parseVerifier, verifier } from "./verifier.js";
import type { Machine } from "../machine/machine.js";
import { InspectError, splitWords } from "./args.js";
import { contextOf, type InspectContext } from "./context.js";
import { devnode, parseDevnode } from "./devnode.js";
import { devobj, parseDevobj } from "./devobj.js";
import { devstack, parseDevstack } from "./devstack.js";
import { dpcs, parseDpcs } from "./dpcs.js";
import { drvobj, parseDrvobj } from "./drvobj.js";
import { handle, parseHandle } from "./handle.js";
import { irp, parseIrp } from "./irp.js";
import { irpfind, parseIrpfind } from "./irpfind.js";
import { object, parseObject } from "./object.js";
import { parsePcitree, pcitree } from "./pcitree.js";
import { parsePoolused, poolused } from "./poolused.js";
import { parseReg, reg } from "./reg.js";

/** A command: checks its words, then returns what prints its output for a machine. */
type Command = (words: string[]) => (ctx: InspectContext) => string;

function command<A>(parse: (words: string[]) => A, run: (ctx: InspectContext, args: A) => string): Command {
  return (words) => {
    const args = parse(words);
    return (ctx) => run(ctx, args);
  };
}

const COMMANDS: Record<string, Command> = {
  "!devnode": command(parseDevnode, devnode),
  "!devstack": command(parseDevstack, devstack),
  "!devobj": command(parseDevobj, devobj),
  "!drvobj": command(parseDrvobj, drvobj),
  "!irp": command(parseIrp, irp),
  "!irpfind": command(parseIrpfind, irpfind),
  "!pcitree": command(parsePcitree, pcitree),
  "!dpcs": command(parseDpcs, dpcs),
  "!poolused": command(parsePoolused, poolused),
  "!reg": command(parseReg, reg),
  "!object": command(parseObject, object),
  "!handle": command(parseHandle, handle),
  "!verifier": command(parseVerifier, verifier),
};

/** The inspection commands, as typed. */
export const INSPECT_COMMANDS: readonly string[] = Object.keys(COMMANDS);

/** A command whose syntax has been checked, ready to run on a machine. */
export interface InspectCommand {
  /** The command line as given. */
  readonly text: string;
  /** Prints the command's output for `machine`. */
  run(machine: Machine): string;
}

/** Parses a command line; a bad command or argument throws an InspectError naming what to fix. */
export function parseInspectCommand(text: string): InspectCommand {
  const [name = "", ...words] = splitWords(text);
  const c = COMMANDS[name.toLowerCase()];
  if (!c) {
    const hint = !name ? "an empty command" : COMMANDS[`!${name.toLowerCase()}`] ? `"${name}" (extension commands start with !: !${name})` : `unknown command "${name}"`;
    throw new InspectError(`${hint}; the commands are ${INSPECT_COMMANDS.join(", ")}`);
  }
  const print = c(words);
  return { text, run: (machine) => print(contextOf(machine)) };
}

/**
 * Runs one WinDbg-style inspection command on a booted machine and returns what it
 * prints: `inspect(machine, "!devnode 0 1")`. Reading changes nothing in the machine.
 * A bad command, a bad argument, or an address that names nothing throws an
 * InspectError whose message says what to fix.
 */
export function inspect(machine: Machine, command: string): string {
  return parseInspectCommand(command).run(machine);
}

export { InspectError };
