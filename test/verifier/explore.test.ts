// Schedule exploration: the race samples pass on the machine's own schedule, explored
// schedules find each race with the bug check Microsoft documents for it and blame the
// racy routine, a failing schedule replays exactly, and correct drivers survive schedules.
import { describe, expect, it } from "vitest";
import { boot } from "../../src/pnp/boot.js";
import type { Machine } from "../../src/machine/machine.js";
import { armSchedule, explore, type ExploreTarget } from "../../src/verifier/explore.js";
import { RACE_REMOVE_BOOT, runCancelRace, runCounterRace, runRemoveRace, type RaceWorkloadResult } from "../../src/workloads/races.js";
import { BugCheck } from "../../src/ke/bugcheck.js";
import { runEventWorkload } from "../../src/workloads/event.js";
import { loadPendingDriver, pendInput, IOCTL_PEND, PEND_DEVICE } from "../support/pending-driver.js";
import { inspect } from "../../src/debug/inspect.js";

const STATUS_ASSERTION_FAILURE = 0xC0000420;

function target(run: (m: Machine) => Promise<RaceWorkloadResult>, options = {}): ExploreTarget {
  return { boot: () => boot("default", options), run: async (m) => (await run(m)).ok };
}

describe("wdmsim explore finds the seeded races a plain run misses", () => {
  const cases = [
    { name: "a cancel routine completing an IRP its DPC already took", t: target(runCancelRace), code: 0x44, routine: "racecancel!RaceCancelIrp" },
    { name: "a count updated outside the spin lock its polling DPC takes", t: target(runCounterRace), code: 0x1E, routine: "racecount!RaceCountPollDpc" },
    { name: "a remove that leaves its DPC queued as the driver unloads", t: target(runRemoveRace, RACE_REMOVE_BOOT), code: 0xC7, routine: "raceremove!RaceRemoveUnload" },
  ];
  for (const c of cases) {
    it(`${c.name}: 0x${c.code.toString(16).toUpperCase()} in ${c.routine}`, async () => {
      const report = await explore(c.t, { runs: 30 });
      expect(report.plain.outcome).toBe("passed");
      expect(report.plain.points).toBeGreaterThan(0);
      expect(report.failure).not.toBeNull();
      const b = report.failure!.bugCheck!;
      expect(b.code).toBe(c.code);
      expect(`${b.context.driver}!${b.context.routine}`).toBe(c.routine);
      if (c.code === 0x1E) expect(Number(b.parameters[0])).toBe(STATUS_ASSERTION_FAILURE);
      if (c.code === 0xC7) {
        // P1 1: a DPC object; P2 its address; P3 and P4 the unloading image's range, which holds the DPC's routine.
        expect(Number(b.parameters[0])).toBe(1);
        expect(b.parameters[2]).toBeLessThan(b.parameters[3]);
      }
    }, 120_000);
  }

  it("a failing schedule replays exactly: the same bug check, parameters and moment", async () => {
    const t = target(runCounterRace);
    const report = await explore(t, { runs: 30 });
    const seed = report.failure!.seed!;
    const again = async () => {
      const machine = await t.boot();
      armSchedule(machine, { seed, points: report.schedule.points, preemptions: report.schedule.preemptions });
      try {
        await t.run(machine);
      } catch (e) {
        if (e instanceof BugCheck) return `${e.message} ${e.parameters.join(",")} ${machine.nowPs}`;
        throw e;
      }
      return "passed";
    };
    const first = await again();
    expect(first).toContain("KMODE_EXCEPTION_NOT_HANDLED");
    expect(await again()).toBe(first);
  }, 120_000);

  it("!verifier shows the schedule as delay fuzzing (flag 0x00800000) with its counts", async () => {
    const machine = await boot("default");
    expect(inspect(machine, "!verifier")).toContain("[ ] (0x00800000) Kernel synchronization delay fuzzing");
    const explorer = armSchedule(machine, { seed: 7, points: 150, preemptions: 3 });
    // The run may end in the race's bug check under this schedule; !verifier reads the machine either way.
    await runCounterRace(machine).catch(() => undefined);
    expect(explorer.points).toBeGreaterThan(0);
    const shown = inspect(machine, "!verifier");
    expect(shown).toContain("[X] (0x00800000) Kernel synchronization delay fuzzing");
    expect(shown).toContain("Kernel synchronization delay fuzzing: schedule seed 7, 3 preemptions over 150 points");
    expect(shown).toMatch(new RegExp(`preemption points passed +${explorer.points} +preemptions +${explorer.preempted} +late DPCs and work items +${explorer.late}`));
  }, 60_000);

  it("schedules with no preemption points to spread over leave the run as the machine's own", async () => {
    const plain = await explore(target(runCounterRace), { runs: 0 });
    const machine = await boot("default");
    const explorer = armSchedule(machine, { seed: 99, points: 0 });
    expect((await runCounterRace(machine)).ok).toBe(true);
    expect([explorer.points, explorer.preempted, explorer.late]).toEqual([plain.plain.points, 0, 0]);
  }, 60_000);
});

describe("correct drivers survive explored schedules", () => {
  it("requests pended with a cancel-safe cancel routine and completed from a DPC, cancelled at any moment", async () => {
    const t: ExploreTarget = {
      boot: () => boot("default"),
      async run(machine) {
        const driver = await loadPendingDriver(machine);
        const { CreateFile, DeviceIoControl, CancelIo, CloseHandle, OVERLAPPED, GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, Sleep } = await import("../../src/index.js");
        await machine.runProgram("canceller", async () => {
          const h = await CreateFile(PEND_DEVICE, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, null);
          for (let i = 0; i < 10; i++) {
            const o = new OVERLAPPED();
            void DeviceIoControl(h, IOCTL_PEND, pendInput(100 + 10 * i, i), 12, new Uint8Array(4), 4, o);
            await Sleep(0);
            await CancelIo(h);
          }
          await CloseHandle(h);
        });
        return driver.pending.length === 0;
      },
    };
    const report = await explore(t, { runs: 6 });
    expect(report.plain.outcome).toBe("passed");
    expect(report.runs.map((r) => r.message)).toEqual(Array(6).fill("passed"));
  }, 120_000);

  it("the event sample's workload", async () => {
    const report = await explore({ boot: () => boot("default"), run: async (m) => (await runEventWorkload(m)).ok }, { runs: 4 });
    expect(report.plain.outcome).toBe("passed");
    expect(report.failure).toBeNull();
    expect(report.runs.length).toBe(4);
  }, 120_000);
});
