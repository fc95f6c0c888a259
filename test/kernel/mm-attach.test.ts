// Address spaces and process attach: the system space and one per user process;
// KeStackAttachProcess / KeUnstackDetachProcess switch the processor's CR3 to the
// target process and back, nestably (WDK: KeStackAttachProcess, KeUnstackDetachProcess,
// Bug Check 0x5 INVALID_PROCESS_ATTACH_ATTEMPT).
import { beforeAll, describe, expect, it } from "vitest";
import {
  DISPATCH_LEVEL, type Machine, KE, KeRaiseIrql, KeLowerIrql, KeGetCurrentThread, KAPC_STATE, KeStackAttachProcess,
  KeUnstackDetachProcess, KeIsAttachedProcess, PsGetCurrentProcess, IoGetCurrentProcess, VirtualAlloc, readU32, readBytes,
  writeBytes, MmIsAddressValid, MmTrimPageable, IoAllocateMdl, IoFreeMdl, MmProbeAndLockPages, MmUnlockPages, MmGetMdlPfnArray,
  MmGetPhysicalAddress, KPROCESSOR_MODE, LOCK_OPERATION, NtStatusException, STATUS_ACCESS_VIOLATION, KDPC, KeInitializeDpc,
  KeInsertQueueDpc, KeDelayExecutionThread,
} from "../../src/index.js";
import type { KPROCESS } from "../../src/ke/scheduler.js";
import { bootDefault, bugCheckOf, crash, expectBugCheck, kernelOf } from "../support/kernel-harness.js";

const INVALID_PROCESS_ATTACH_ATTEMPT = 0x5;
const PAGE = 4096;

/** Starts a program that allocates a buffer and fills it with `fill`; returns its process and the buffer's address. */
function programWithBuffer(machine: Machine, name: string, fill: number): Promise<{ process: KPROCESS; va: number }> {
  return machine.runProgram(name, async () => {
    const va = VirtualAlloc(2 * PAGE);
    writeBytes(va, new Uint8Array(2 * PAGE).fill(fill));
    return { process: KeGetCurrentThread()!.process, va };
  });
}

/** Reads a ULONG, or returns the status it raised. */
function tryRead(va: number): number | string {
  try {
    return readU32(va);
  } catch (e) {
    if (e instanceof NtStatusException) return `status 0x${(e.status >>> 0).toString(16)}`;
    throw e;
  }
}

describe("address spaces", () => {
  let machine: Machine;
  let a: { process: KPROCESS; va: number };
  let b: { process: KPROCESS; va: number };
  beforeAll(async () => {
    machine = await bootDefault();
    a = await programWithBuffer(machine, "proc-a", 0xAA);
    b = await programWithBuffer(machine, "proc-b", 0xBB);
  });

  it("each user process has its own address space: the same user address holds different data in each", () => {
    expect(a.va).toBe(b.va);
    expect(a.process.DirectoryTableBase).not.toBe(b.process.DirectoryTableBase);
  });

  it("a system thread does not see a process's user addresses (STATUS_ACCESS_VIOLATION)", async () => {
    const r = await machine.exec(() => tryRead(a.va));
    expect(r).toBe(`status 0x${(STATUS_ACCESS_VIOLATION >>> 0).toString(16)}`);
  });

  it("KeStackAttachProcess lets kernel code read another process's buffer by its user address; KeUnstackDetachProcess ends it", async () => {
    const r = await machine.exec(() => {
      const system = PsGetCurrentProcess();
      const apc = new KAPC_STATE();
      KeStackAttachProcess(a.process, apc);
      const inside = { bytes: [...readBytes(a.va + PAGE - 2, 4)], current: PsGetCurrentProcess() === a.process, io: IoGetCurrentProcess() === a.process, attached: KeIsAttachedProcess(), cr3: KE().cpu.cr3 };
      KeUnstackDetachProcess(apc);
      return { inside, after: tryRead(a.va), backToSystem: PsGetCurrentProcess() === system, attached: KeIsAttachedProcess(), cr3: KE().cpu.cr3, systemCr3: system.DirectoryTableBase };
    });
    expect(r.inside).toEqual({ bytes: [0xAA, 0xAA, 0xAA, 0xAA], current: true, io: true, attached: true, cr3: a.process.DirectoryTableBase });
    expect(r.after).toBe(`status 0x${(STATUS_ACCESS_VIOLATION >>> 0).toString(16)}`);
    expect(r.backToSystem).toBe(true);
    expect(r.attached).toBe(false);
    expect(r.cr3).toBe(r.systemCr3);
  });

  it("a thread that waits while attached resumes in the attached process's address space", async () => {
    const r = await machine.exec(async () => {
      const apc = new KAPC_STATE();
      KeStackAttachProcess(b.process, apc);
      // Something else runs on this processor meanwhile, in its own address space.
      await KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, -10_000);
      const after = { value: tryRead(b.va), cr3: KE().cpu.cr3 };
      KeUnstackDetachProcess(apc);
      return after;
    });
    expect(r).toEqual({ value: 0xBBBBBBBB, cr3: b.process.DirectoryTableBase });
  });

  it("attaches nest: attached to A then B, detaching returns to A, then to the thread's own process", async () => {
    const r = await machine.exec(() => {
      const outer = new KAPC_STATE();
      const inner = new KAPC_STATE();
      KeStackAttachProcess(a.process, outer);
      const first = readU32(a.va);
      KeStackAttachProcess(b.process, inner);
      const nested = readU32(b.va);
      const saved = inner.Process === a.process && outer.Process === null;
      KeUnstackDetachProcess(inner);
      const back = readU32(a.va);
      KeUnstackDetachProcess(outer);
      return { first, nested, back, saved, end: tryRead(a.va) };
    });
    expect(r.first).toBe(0xAAAAAAAA);
    expect(r.nested).toBe(0xBBBBBBBB);
    expect(r.back).toBe(0xAAAAAAAA);
    expect(r.saved).toBe(true);
    expect(typeof r.end).toBe("string");
  });

  it("attaching loads CR3 (its cost, and the flushed TLB's page walks, are charged)", async () => {
    const cost = kernelOf(machine).cost.KeStackAttachProcess;
    const r = await machine.exec(() => {
      const apc = new KAPC_STATE();
      const t0 = KE().cpu.time;
      KeStackAttachProcess(a.process, apc);
      const t1 = KE().cpu.time;
      readU32(a.va);
      const t2 = KE().cpu.time;
      readU32(a.va);
      const t3 = KE().cpu.time;
      KeUnstackDetachProcess(apc);
      return { attach: t1 - t0, firstRead: t2 - t1, secondRead: t3 - t2 };
    });
    expect(r.attach).toBeGreaterThanOrEqual(cost);
    // The first read after the CR3 load misses the TLB (a page walk); the second hits.
    expect(r.firstRead).toBeGreaterThan(r.secondRead);
  });

  it("while attached, a paged-out page of the process is paged in, and MmProbeAndLockPages locks the process's pages for an MDL owned by it", async () => {
    const r = await machine.exec(() => {
      const apc = new KAPC_STATE();
      KeStackAttachProcess(b.process, apc);
      MmTrimPageable();
      const out = MmIsAddressValid(b.va);
      const value = readU32(b.va + PAGE);
      const mdl = IoAllocateMdl(b.va, 2 * PAGE, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.UserMode, LOCK_OPERATION.IoReadAccess);
      const owner = mdl.Process === b.process;
      const pfns = [...MmGetMdlPfnArray(mdl)];
      const physical = [0, 1].map((i) => MmGetPhysicalAddress(b.va + i * PAGE) / PAGE);
      MmUnlockPages(mdl);
      IoFreeMdl(mdl);
      KeUnstackDetachProcess(apc);
      return { out, value, owner, pfns, physical };
    });
    expect(r.out).toBe(false);
    expect(r.value).toBe(0xBBBBBBBB);
    expect(r.owner).toBe(true);
    expect(r.pfns).toEqual(r.physical);
  });
});

describe("attach rules (0x5 INVALID_PROCESS_ATTACH_ATTEMPT)", () => {
  it("attaching at DISPATCH_LEVEL is 0x5", async () => {
    const m = await bootDefault();
    const { process } = await programWithBuffer(m, "target", 1);
    const bc = await bugCheckOf(m.exec(() => KeStackAttachProcess(process, new KAPC_STATE()), { irql: DISPATCH_LEVEL }));
    expectBugCheck(bc, INVALID_PROCESS_ATTACH_ATTEMPT, undefined, 0, 0, 0);
    expect(bc.bugCheckName).toBe("INVALID_PROCESS_ATTACH_ATTEMPT");
  });

  it("attaching from a DPC is 0x5 with P4 non-zero (a DPC is running)", async () => {
    const m = await bootDefault();
    const { process } = await programWithBuffer(m, "target", 1);
    const bc = await bugCheckOf(m.exec(() => {
      const dpc = new KDPC();
      KeInitializeDpc(dpc, () => KeStackAttachProcess(process, new KAPC_STATE()), null);
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      KeInsertQueueDpc(dpc, null, null);
      KeLowerIrql(old);
    }));
    expectBugCheck(bc, INVALID_PROCESS_ATTACH_ATTEMPT, undefined, 0, 0, 1);
  });

  it("detaching out of order (not the innermost attach) is 0x5", async () => {
    const m = await bootDefault();
    const p1 = await programWithBuffer(m, "one", 1);
    const p2 = await programWithBuffer(m, "two", 2);
    const bc = await bugCheckOf(m.exec(() => {
      const outer = new KAPC_STATE();
      const inner = new KAPC_STATE();
      KeStackAttachProcess(p1.process, outer);
      KeStackAttachProcess(p2.process, inner);
      KeUnstackDetachProcess(outer);
    }));
    expectBugCheck(bc, INVALID_PROCESS_ATTACH_ATTEMPT, undefined, undefined, 1);
  });

  it("detaching without an attach is 0x5", async () => {
    const bc = await crash(() => KeUnstackDetachProcess(new KAPC_STATE()));
    expectBugCheck(bc, INVALID_PROCESS_ATTACH_ATTEMPT);
  });
});
