// A machine describing 64 GiB of RAM boots and runs workloads: the HAL reads the whole
// memory map, the memory manager hands out pages from the top of RAM (above 60 GiB), its
// page frame database stays small, and the core backs only the pages the guest writes.
import { describe, expect, test } from "vitest";
import { boot } from "../../src/pnp/boot.js";
import { Machine } from "../../src/machine/machine.js";
import { loadMachine, type MachineDescription } from "../../src/machine/firmwareFiles.js";
import { MM } from "../../src/mm/manager.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../src/mm/pool.js";
import { MmAllocateContiguousMemorySpecifyCache, MmFreeContiguousMemory, MmGetPhysicalAddress, MEMORY_CACHING_TYPE } from "../../src/mm/physical.js";
import { RtlFillMemory, readBytes } from "../../src/mm/memory.js";
import { runFio } from "../../src/workloads/fio/fio.js";
import { resolveJobFile } from "../../src/workloads/fio/options.js";
import { runEduWorkload } from "../../src/workloads/edu.js";
import { storageDescription } from "../support/storage-harness.js";
import { kernelOf } from "../support/kernel-harness.js";

const GiB = 2 ** 30;

/** `d` with 64 GiB: 3 GiB below the PCI hole and 61 GiB from 4 GiB up. */
function with64G(d: MachineDescription): MachineDescription {
  d.memory = [{ base: 0, size: 3 * GiB }, { base: 4 * GiB, size: 61 * GiB }];
  return d;
}

const VERIFY_JOB = "[global]\nfilename=\\\\.\\PhysicalDrive0\nioengine=windowsaio\ndirect=1\nthread\n[v]\nrw=randwrite\nbs=4k\nsize=1m\niodepth=16\nverify=crc32c\n";

describe("a 64 GiB machine", () => {
  test("the storage machine boots, fio writes and verifies through NVMe and the IOMMU, and little RAM is backed", async () => {
    const machine = await boot(Machine.fromDescription(with64G(storageDescription())));
    const k = kernelOf(machine);
    const mm = MM(k);
    expect(mm.pfn.totalPages * 4096).toBeGreaterThan(64 * GiB - 2 ** 20 - 1);
    // One bit per page plus lock counts where something is locked: a few MiB, not 4 bytes a page.
    expect(mm.pfn.hostBytes).toBeLessThan(4 * 2 ** 20);
    // Allocations come from the top of RAM.
    const pa = await machine.exec(() => {
      const p = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 64, "Test");
      const a = MmGetPhysicalAddress(p);
      ExFreePoolWithTag(p, "Test");
      return a;
    });
    expect(pa).toBeGreaterThan(60 * GiB);
    expect(pa).toBeLessThan(65 * GiB);

    const result = await runFio(machine, resolveJobFile(VERIFY_JOB, "verify.fio", machine.description.cpu.count));
    expect(result.ok).toBe(true);
    expect(result.jobs[0].outcome.verifyFailures).toBe(0);
    expect(result.jobs[0].outcome.verified).toBe(256);
    // The guest wrote pool, page tables, queues and I/O buffers: thousands of pages at most, of 16 million.
    const pages = machine.core.counters().ramPagesBacked;
    expect(pages).toBeGreaterThan(8);
    expect(pages).toBeLessThan(8192);
  });

  test("the core's memory grows while kernel code writes 48 MiB, and the kernel's views of it follow", async () => {
    const machine = await boot(Machine.fromDescription(with64G(loadMachine("default"))));
    const before = { bytes: machine.core.memoryBytes, pages: machine.core.counters().ramPagesBacked };
    const MiB = 2 ** 20;
    const result = await machine.exec(() => {
      const va = MmAllocateContiguousMemorySpecifyCache(48 * MiB, 0, 64 * GiB, 0, MEMORY_CACHING_TYPE.MmCached);
      if (va === 0) throw new Error("no contiguous memory");
      const t0 = kernelOf(machine).cpu.time;
      RtlFillMemory(va, 48 * MiB, 0xA5);
      const tail = readBytes(va + 48 * MiB - 4096, 4096);
      const t1 = kernelOf(machine).cpu.time;
      MmFreeContiguousMemory(va);
      return { ok: tail.every((b) => b === 0xA5), charged: t1 - t0 };
    });
    expect(result.ok).toBe(true);
    // The processor's clock lives in the core's memory: still read and written after it grew.
    expect(result.charged).toBeGreaterThan(0);
    expect(Number.isFinite(machine.nowPs)).toBe(true);
    expect(machine.core.counters().ramPagesBacked - before.pages).toBeGreaterThanOrEqual(48 * 256);
    expect(machine.core.memoryBytes - before.bytes).toBeGreaterThanOrEqual(32 * MiB);
  });

  test("the default machine boots and the edu workload (DMA limited to 28 bits) runs correctly", async () => {
    const d = with64G(loadMachine("default"));
    const machine = await boot(Machine.fromDescription(d));
    const r = await runEduWorkload(machine);
    expect(r.ok).toBe(true);
    expect(r.dma.mismatches).toBe(0);
    expect(machine.core.counters().ramPagesBacked).toBeLessThan(8192);
  });
});
