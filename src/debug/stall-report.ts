/**
 * What a machine that stopped without finishing was still waiting for — the report of a
 * hang or a run limit: each thread that waits and on what, the requests not completed
 * (as !irpfind prints them), the DPCs queued (!dpcs) and the timers armed, with when
 * each is due.
 */
import type { Machine } from "../machine/machine.js";
import type { BootedKernel } from "../pnp/boot.js";
import { KTHREAD } from "../ke/scheduler.js";
import { KTIMER } from "../ke/timer.js";
import { inspect } from "./inspect.js";

/** Picoseconds per millisecond. */
const PS_PER_MS = 1e9;

/** A simulated time as milliseconds for the report. */
function ms(ps: number): string {
  return `${(ps / PS_PER_MS).toFixed(3)} ms`;
}

/** What armed a timer, in words. */
function timerOwner(owner: unknown): string {
  if (owner instanceof KTHREAD) return `timeout of thread "${owner.name}"'s wait`;
  if (owner instanceof KTIMER) {
    const routine = owner.Dpc?.DeferredRoutine;
    const period = owner.Period > 0 ? `, every ${owner.Period} ms` : "";
    return `KTIMER${routine ? ` with DPC ${routine.name || "(anonymous)"}` : ""}${period}`;
  }
  return "timer";
}

/** The report for `machine` (booted), as lines of text. */
export function stallReport(machine: Machine): string {
  const k = (machine.kernel as BootedKernel).k;
  const s = k.scheduler;
  const lines: string[] = [`Simulated time ${ms(Math.max(...k.processors.map((p) => p.time)))}.`, "", "Threads waiting:"];
  const waiting = s.threads.filter((t) => t.State === "waiting");
  for (const t of waiting) lines.push(`  "${t.name}" (process ${t.process.ImageFileName}, thread ${t.ThreadId}) waits on ${t.waitingOn || "(nothing named)"} since ${ms(t.stoppedAtPs)}`);
  if (waiting.length === 0) lines.push("  (none)");
  lines.push("", "Requests not completed:", ...indent(inspect(machine, "!irpfind")));
  lines.push("", "DPCs queued:", ...indent(inspect(machine, "!dpcs")));
  lines.push("", "Timers armed:");
  for (const e of s.armedTimers()) lines.push(`  due at ${ms(e.duePs)}: ${timerOwner(e.owner)}`);
  if (s.armedTimers().length === 0) lines.push("  (none)");
  return lines.join("\n");
}

function indent(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => `  ${l}`);
}
