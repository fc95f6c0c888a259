/**
 * MDL lock cycles per host second: IoAllocateMdl + MmProbeAndLockPages + MmUnlockPages +
 * IoFreeMdl of a 64 KiB user buffer (VirtualAlloc, 16 pages, resident), from a program
 * pinned to CPU 0 (the caller's context, as a driver's dispatch routine runs in it).
 * Baselines measured in the same run and process:
 *
 * - the same cycle for a 64 KiB nonpaged pool buffer with MmBuildMdlForNonPagedPool (no
 *   probe, no lock): what locking pageable memory costs over describing nonpaged memory;
 * - a plain RtlCopyMemory of 64 KiB (user buffer to nonpaged pool): the cost of touching
 *   the bytes once, for scale.
 *
 * A third row locks the same buffer after the pager has moved it to the page file each
 * time (16 page-ins per cycle), against the resident cycle.
 *
 * Host time covers the loops only. Simulated time per cycle is CPU 0's clock.
 */
import { VirtualAlloc } from "../src/io/usermode.js";
import { IoAllocateMdl, IoFreeMdl } from "../src/io/mdl.js";
import { KPROCESSOR_MODE } from "../src/ke/dispatcher.js";
import { LOCK_OPERATION, MmBuildMdlForNonPagedPool, MmGetMdlPfnArray, MmProbeAndLockPages, MmUnlockPages } from "../src/mm/mdl.js";
import { RtlCopyMemory, writeBytes } from "../src/mm/memory.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../src/mm/pool.js";
import { MmTrimPageable, pagingStatistics } from "../src/mm/paging.js";
import { compare, now, row, type Benchmark, type Sample, SimClock } from "./lib.js";
import { bootDefault, cpuTimePs, type BootedMachine } from "./kernel-machine.js";

const LENGTH = 64 * 1024;
const PAGES = LENGTH / 4096;

type Kind = "lock" | "lock-paged-out" | "nonpaged" | "copy";

/** A sample: one program on CPU 0 that does `count` operations of `kind` on a 64 KiB buffer. */
function loop(m: BootedMachine, kind: Kind, count: number, sim: SimClock): Sample {
  return async () => {
    const r = await m.machine.runProgram(`bench-mdl-${kind}`, async () => {
      const user = VirtualAlloc(LENGTH);
      writeBytes(user, new Uint8Array(LENGTH).map((_, i) => i & 0xFF));
      const pool = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, LENGTH, "Bnch");
      const pageInsBefore = pagingStatistics().pageIns;
      let pfnSum = 0;
      let hostMs = 0;
      const s0 = cpuTimePs();
      let t0 = now();
      for (let i = 0; i < count; i++) {
        if (kind === "lock-paged-out") {
          // Not timed: moving the buffer out. Timed: the cycle that brings it back.
          hostMs += now() - t0;
          MmTrimPageable();
          t0 = now();
        }
        if (kind === "copy") {
          RtlCopyMemory(pool, user, LENGTH);
          continue;
        }
        const va = kind === "nonpaged" ? pool : user;
        const mdl = IoAllocateMdl(va, LENGTH, false, false, null)!;
        if (kind === "nonpaged") {
          MmBuildMdlForNonPagedPool(mdl);
        } else {
          MmProbeAndLockPages(mdl, KPROCESSOR_MODE.UserMode, LOCK_OPERATION.IoWriteAccess);
        }
        pfnSum += MmGetMdlPfnArray(mdl).length;
        if (kind !== "nonpaged") MmUnlockPages(mdl);
        IoFreeMdl(mdl);
      }
      hostMs += now() - t0;
      const ps = cpuTimePs() - s0;
      const pageIns = pagingStatistics().pageIns - pageInsBefore;
      ExFreePoolWithTag(pool, "Bnch");
      if (kind !== "copy" && pfnSum !== count * PAGES) throw new Error(`expected ${count * PAGES} page numbers, got ${pfnSum}`);
      if (kind === "lock-paged-out" && pageIns < count * PAGES) throw new Error(`expected ${count * PAGES} page-ins, the pager did ${pageIns}`);
      return { ms: hostMs, ps };
    }, { cpu: 0 });
    sim.add(r.ps, count);
    return { units: count, ms: r.ms };
  };
}

export const mdl: Benchmark = {
  name: "mdl",
  description: "IoAllocateMdl + MmProbeAndLockPages + MmUnlockPages + IoFreeMdl of a 64 KiB user buffer",
  async run(options) {
    const count = Math.max(100, Math.round(10_000 * options.scale));
    const m = await bootDefault();

    const lockSim = new SimClock();
    const buildSim = new SimClock();
    const vsBuild = await compare(options.repeats, loop(m, "lock", count, lockSim), loop(m, "nonpaged", count, buildSim));
    const buildRow = row("MDL lock cycle, 64 KiB user buffer (IoAllocateMdl, MmProbeAndLockPages, MmUnlockPages, IoFreeMdl)", "cycles/s",
      "same cycle on 64 KiB nonpaged pool with MmBuildMdlForNonPagedPool", vsBuild, {
        cyclesPerRepeat: count, simulatedNsPerCycle: lockSim.nsPerOp, baselineSimulatedNsPerCycle: buildSim.nsPerOp,
      }, { op: "64 KiB lock cycle", ns: lockSim.nsPerOp, unitsPerOp: 1 });

    const lockSim2 = new SimClock();
    const copySim = new SimClock();
    const vsCopy = await compare(options.repeats, loop(m, "lock", count, lockSim2), loop(m, "copy", count, copySim));
    const copyRow = row("MDL lock cycle, 64 KiB user buffer", "cycles/s", "RtlCopyMemory of 64 KiB (user buffer to nonpaged pool)", vsCopy, {
      cyclesPerRepeat: count, simulatedNsPerCycle: lockSim2.nsPerOp, baselineSimulatedNsPerCopy: copySim.nsPerOp,
    });

    const pagedCount = Math.max(20, Math.round(count / 4));
    const pagedSim = new SimClock();
    const residentSim = new SimClock();
    const vsResident = await compare(options.repeats, loop(m, "lock-paged-out", pagedCount, pagedSim), loop(m, "lock", pagedCount, residentSim));
    const pagedRow = row("MDL lock cycle, 64 KiB user buffer in the page file (16 page-ins per cycle)", "cycles/s", "same cycle, buffer resident", vsResident, {
      cyclesPerRepeat: pagedCount, simulatedNsPerCycle: pagedSim.nsPerOp, baselineSimulatedNsPerCycle: residentSim.nsPerOp,
    }, { op: "64 KiB lock cycle with page-ins", ns: pagedSim.nsPerOp, unitsPerOp: 1 });

    return [buildRow, copyRow, pagedRow];
  },
};
