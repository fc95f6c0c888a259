// The progress line of a long run: written in place while the machine runs (simulated time,
// events per second, host time), erased at the end; the scheduler calls it every
// PROGRESS_EVERY_MS of host time and never otherwise.
import { describe, expect, it } from "vitest";
import { boot } from "../../src/pnp/boot.js";
import { showProgress } from "../../src/cli/progress.js";
import { runEduWorkload, EDU_WORKLOAD_DEFAULTS } from "../../src/workloads/edu.js";

describe("progress on a terminal", () => {
  it("rewrites one line with simulated time and events per second while the run goes, and erases it at the end", async () => {
    const machine = await boot("default");
    const written: string[] = [];
    const stream = { write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const stop = showProgress(machine, stream);
    const started = performance.now();
    // Long enough for several reports (every 500 ms of host time).
    while (performance.now() - started < 1600) await runEduWorkload(machine, { ...EDU_WORKLOAD_DEFAULTS, factorials: 200, dmaRoundTrips: 50 });
    stop();
    const lines = written.slice(0, -1);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(/^\r\x1b\[K {2}simulated [0-9.]+ (s|ms|us|ns) {3}[0-9.]+( k| M)? events\/s {3}host [0-9.]+ s$/);
    expect(written[written.length - 1]).toBe("\r\x1b[K");
    // Stopped: the scheduler no longer reports.
    const before = written.length;
    await runEduWorkload(machine, { ...EDU_WORKLOAD_DEFAULTS, factorials: 50 });
    expect(written.length).toBe(before);
  }, 60_000);
});
