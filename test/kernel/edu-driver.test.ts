// End to end: boot enumerates the edu device and binds its driver; user-mode programs drive
// it through its IOCTLs; its DMA buffer, MSI, ISR and DPC behave as the WDK and
// shared/specs/nt-semantics.md (Interrupts, DPCs, DMA) say.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, type KINTERRUPT, type KDPC,
  CreateFile, DeviceIoControl, GetLastError, GENERIC_READ, OPEN_EXISTING, INVALID_HANDLE_VALUE,
  ERROR_SUCCESS, ERROR_INVALID_PARAMETER, ERROR_INVALID_FUNCTION, ERROR_INSUFFICIENT_BUFFER, ERROR_FILE_NOT_FOUND,
  CTL_CODE, METHOD_BUFFERED, FILE_ANY_ACCESS, FILE_DEVICE_UNKNOWN, DISPATCH_LEVEL, PASSIVE_LEVEL, PNP,
  KE, KeGetCurrentIrql, KeSynchronizeExecution, MmGetPhysicalAddress, readBytes, DO_BUFFERED_IO, DO_DEVICE_INITIALIZING,
} from "../../src/index.js";
import type { PKMESSAGE_SERVICE_ROUTINE } from "../../src/ke/interrupt.js";
import { PNP_DEVNODE_STATE, type DEVICE_NODE } from "../../src/pnp/devnode.js";
import { EDU_DEVICE_EXTENSION } from "../../src/drivers/edu/driver.js";
import {
  EDU_DMA_BUFFER_SIZE, eduDmaRequest, IOCTL_EDU_CHECK_LIVENESS, IOCTL_EDU_COMPUTE_FACTORIAL, IOCTL_EDU_DMA_FROM_DEVICE,
  IOCTL_EDU_DMA_TO_DEVICE, IOCTL_EDU_GET_IDENTIFICATION,
} from "../../src/drivers/edu/public.js";
import { runEduWorkload } from "../../src/workloads/edu.js";
import { bootDefault, kernelOf, eduExtension, withEdu } from "../support/kernel-harness.js";
import { le32, pattern as bytes, u32 } from "../support/bytes.js";

const EDU_HARDWARE_ID = "PCI\\VEN_1234&DEV_11E8&SUBSYS_11001AF4&REV_10";

/** n! modulo 2^32, computed independently of the driver and the workload. */
function factorialMod32(n: number): number {
  let r = 1n;
  for (let i = 2n; i <= BigInt(n); i++) r *= i;
  return Number(r % 2n ** 32n);
}




/** Opens the edu device, runs `body`, closes it. */

describe("edu driver end to end", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("after boot the device tree holds the PCI host bridge and the edu device, bound to service \"edu\" and started", async () => {
    const pnp = PNP(kernelOf(machine));
    const nodes: DEVICE_NODE[] = [...pnp.allNodes()];
    const bridge = nodes.find((n) => n.HardwareIds.includes("ACPI\\PNP0A08"));
    expect(bridge).toBeDefined();
    expect(bridge!.Parent).toBe(pnp.root);
    expect(bridge!.ServiceName).toBe("pci");
    expect(bridge!.State).toBe(PNP_DEVNODE_STATE.DeviceNodeStarted);
    const edu = nodes.find((n) => n.HardwareIds.includes(EDU_HARDWARE_ID));
    expect(edu).toBeDefined();
    expect(edu!.HardwareIds[0]).toBe(EDU_HARDWARE_ID);
    expect(edu!.Parent).toBe(bridge);
    expect(edu!.ServiceName).toBe("edu");
    expect(edu!.State).toBe(PNP_DEVNODE_STATE.DeviceNodeStarted);
    expect(edu!.InstancePath.startsWith(`${EDU_HARDWARE_ID}\\`)).toBe(true);
    // The edu FDO sits on top of the PCI driver's PDO.
    const pdo = edu!.PhysicalDeviceObject;
    expect(pdo.DriverObject.serviceName).toBe("pci");
    expect(pdo.AttachedDevice?.DriverObject.serviceName).toBe("edu");
    expect(pdo.AttachedDevice?.DeviceExtension).toBeInstanceOf(EDU_DEVICE_EXTENSION);
    const fdo = pdo.AttachedDevice!;
    expect(fdo.StackSize).toBe(pdo.StackSize + 1);
    expect(fdo.Flags & DO_BUFFERED_IO).toBe(DO_BUFFERED_IO);
    expect(fdo.Flags & DO_DEVICE_INITIALIZING).toBe(0);
  });

  it("the edu workload runs and every identification, liveness check, factorial and DMA round trip is verified", async () => {
    const r = await runEduWorkload(machine);
    expect(r.ok).toBe(true);
    expect(r.identification).toBe(0x010000ED);
    expect(r.liveness.correct).toBe(r.liveness.checks);
    expect(r.factorials.correct).toBe(r.factorials.computed);
    expect(r.factorials.computed).toBeGreaterThan(0);
    expect(r.dma.verified).toBe(r.dma.roundTrips);
    expect(r.dma.mismatches).toBe(0);
    for (const s of r.factorials.samples) expect(s.result).toBe(factorialMod32(s.n));
  });

  it("IOCTL_EDU_GET_IDENTIFICATION returns 0x010000ED in 4 bytes", async () => {
    const r = await withEdu(machine, async (h) => {
      const out = new Uint8Array(4);
      const res = await DeviceIoControl(h, IOCTL_EDU_GET_IDENTIFICATION, null, 0, out, 4);
      return { ...res, error: GetLastError(), id: le32(out) };
    });
    expect(r).toEqual({ ok: true, bytes: 4, error: ERROR_SUCCESS, id: 0x010000ED });
  });

  it("IOCTL_EDU_GET_IDENTIFICATION with a 2-byte buffer fails with ERROR_INSUFFICIENT_BUFFER", async () => {
    const r = await withEdu(machine, async (h) => {
      const res = await DeviceIoControl(h, IOCTL_EDU_GET_IDENTIFICATION, null, 0, new Uint8Array(2), 2);
      return { ...res, error: GetLastError() };
    });
    expect(r).toEqual({ ok: false, bytes: 0, error: ERROR_INSUFFICIENT_BUFFER });
  });

  it("IOCTL_EDU_CHECK_LIVENESS returns the bitwise NOT of the value written", async () => {
    const r = await withEdu(machine, async (h) => {
      const results: number[] = [];
      for (const v of [0x12345678, 0, 0xFFFFFFFF, 0xA5A5A5A5]) {
        const out = new Uint8Array(4);
        const res = await DeviceIoControl(h, IOCTL_EDU_CHECK_LIVENESS, u32(v), 4, out, 4);
        if (!res.ok) throw new Error(`liveness failed: ${GetLastError()}`);
        results.push(le32(out));
      }
      return results;
    });
    expect(r).toEqual([0xEDCBA987, 0xFFFFFFFF, 0, 0x5A5A5A5A]);
  });

  it("IOCTL_EDU_COMPUTE_FACTORIAL returns n! in 32-bit arithmetic", async () => {
    const ns = [0, 1, 5, 10, 12, 13, 20];
    const r = await withEdu(machine, async (h) => {
      const out: { n: number; ok: boolean; bytes: number; value: number }[] = [];
      for (const n of ns) {
        const buf = new Uint8Array(4);
        const res = await DeviceIoControl(h, IOCTL_EDU_COMPUTE_FACTORIAL, u32(n), 4, buf, 4);
        out.push({ n, ok: res.ok, bytes: res.bytes, value: le32(buf) });
      }
      return out;
    });
    expect(r).toEqual(ns.map((n) => ({ n, ok: true, bytes: 4, value: factorialMod32(n) })));
    // Spot checks that do not depend on the helper: 5! and 13! mod 2^32.
    expect(r[2].value).toBe(120);
    expect(r[5].value).toBe(1932053504);
  });

  it("a DMA round trip to the device buffer and back returns the same bytes, at any offset", async () => {
    const data = bytes(7, EDU_DMA_BUFFER_SIZE);
    const r = await withEdu(machine, async (h) => {
      const w = await DeviceIoControl(h, IOCTL_EDU_DMA_TO_DEVICE, eduDmaRequest(0, data.length, data), 8 + data.length, null, 0);
      const whole = new Uint8Array(data.length);
      const all = await DeviceIoControl(h, IOCTL_EDU_DMA_FROM_DEVICE, eduDmaRequest(0, data.length), 8, whole, data.length);
      const part = new Uint8Array(100);
      const some = await DeviceIoControl(h, IOCTL_EDU_DMA_FROM_DEVICE, eduDmaRequest(1000, 100), 8, part, 100);
      return { w, all, some, whole, part };
    });
    expect(r.w.ok).toBe(true);
    expect(r.all).toEqual({ ok: true, bytes: data.length });
    expect(r.some).toEqual({ ok: true, bytes: 100 });
    expect(Buffer.from(r.whole).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(r.part).equals(Buffer.from(data.subarray(1000, 1100)))).toBe(true);
  });

  it("DMA requests with bad parameters fail with ERROR_INVALID_PARAMETER", async () => {
    const r = await withEdu(machine, async (h) => {
      const out: { ok: boolean; bytes: number; error: number }[] = [];
      const back = new Uint8Array(EDU_DMA_BUFFER_SIZE);
      // Zero length; past the end of the device buffer (both directions).
      for (const [code, offset, length] of [
        [IOCTL_EDU_DMA_FROM_DEVICE, 0, 0],
        [IOCTL_EDU_DMA_FROM_DEVICE, 4000, 200],
        [IOCTL_EDU_DMA_TO_DEVICE, EDU_DMA_BUFFER_SIZE, 1],
      ]) {
        const request = code === IOCTL_EDU_DMA_TO_DEVICE ? eduDmaRequest(offset, length, new Uint8Array(length)) : eduDmaRequest(offset, length);
        const res = await DeviceIoControl(h, code, request, request.length, code === IOCTL_EDU_DMA_TO_DEVICE ? null : back, code === IOCTL_EDU_DMA_TO_DEVICE ? 0 : back.length);
        out.push({ ...res, error: GetLastError() });
      }
      return out;
    });
    expect(r).toEqual([0, 1, 2].map(() => ({ ok: false, bytes: 0, error: ERROR_INVALID_PARAMETER })));
  });

  it("an unknown IOCTL fails with ERROR_INVALID_FUNCTION", async () => {
    const r = await withEdu(machine, async (h) => {
      const res = await DeviceIoControl(h, CTL_CODE(FILE_DEVICE_UNKNOWN, 0x8FF, METHOD_BUFFERED, FILE_ANY_ACCESS), null, 0, new Uint8Array(4), 4);
      return { ...res, error: GetLastError() };
    });
    expect(r).toEqual({ ok: false, bytes: 0, error: ERROR_INVALID_FUNCTION });
  });

  it("opening a device name that does not exist fails with ERROR_FILE_NOT_FOUND", async () => {
    const r = await machine.runProgram("no-device", async () => {
      const h = await CreateFile("\\\\.\\NoSuchDevice", GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      return { h, error: GetLastError() };
    });
    expect(r).toEqual({ h: INVALID_HANDLE_VALUE, error: ERROR_FILE_NOT_FOUND });
  });

  it("the DMA common buffer lies below 2^28 (the device's address width) and its logical address is its physical address", async () => {
    const ext = eduExtension(machine);
    expect(ext.CommonBuffer).not.toBe(0);
    expect(ext.CommonBufferLogical + EDU_DMA_BUFFER_SIZE).toBeLessThanOrEqual(2 ** 28);
    const r = await machine.exec(() => ({ physical: MmGetPhysicalAddress(ext.CommonBuffer), last: MmGetPhysicalAddress(ext.CommonBuffer + EDU_DMA_BUFFER_SIZE - 1) }));
    expect(r.physical).toBe(ext.CommonBufferLogical);
    // Physically contiguous.
    expect(r.last).toBe(ext.CommonBufferLogical + EDU_DMA_BUFFER_SIZE - 1);
  });

  it("data DMA'd from the device lands in the common buffer the CPU sees", async () => {
    const data = bytes(99, 64);
    await withEdu(machine, async (h) => {
      await DeviceIoControl(h, IOCTL_EDU_DMA_TO_DEVICE, eduDmaRequest(512, 64, data), 72, null, 0);
      await DeviceIoControl(h, IOCTL_EDU_DMA_FROM_DEVICE, eduDmaRequest(512, 64), 8, new Uint8Array(64), 64);
    });
    const ext = eduExtension(machine);
    const seen = await machine.exec(() => readBytes(ext.CommonBuffer, 64));
    expect(Buffer.from(seen).equals(Buffer.from(data))).toBe(true);
  });

  it("an MSI reaches the ISR at the vector's IRQL (vector >> 4) holding the interrupt lock, and the DPC runs at DISPATCH_LEVEL on the same processor", async () => {
    const ext = eduExtension(machine);
    const info = ext.InterruptTable!.MessageInfo[0];
    const interrupt = ext.Interrupt as KINTERRUPT;
    const dpc = ext.Self.Dpc as KDPC;
    const isrs: { irql: number; cpu: number; lockHeld: boolean; message: number }[] = [];
    const dpcs: { irql: number; cpu: number }[] = [];
    const isr = interrupt.MessageServiceRoutine!;
    const deferred = dpc.DeferredRoutine;
    const probeIsr: PKMESSAGE_SERVICE_ROUTINE = function EduInterruptService(i, ctx, message) {
      const k = KE();
      isrs.push({ irql: k.cpu.irql, cpu: k.cpu.Number, lockHeld: i.SpinLock.owner === k.cpu.Number, message });
      return isr(i, ctx, message);
    };
    interrupt.MessageServiceRoutine = probeIsr;
    dpc.DeferredRoutine = function EduDpcForIsr(d, ctx, a1, a2) {
      const k = KE();
      dpcs.push({ irql: k.cpu.irql, cpu: k.cpu.Number });
      deferred(d, ctx, a1, a2);
    };
    const stats = kernelOf(machine).recorder.stats;
    const before = { isrs: stats.isrs, dpcs: stats.dpcs, samples: stats.interruptToDpc.count };
    try {
      const value = await withEdu(machine, async (h) => {
        const out = new Uint8Array(4);
        await DeviceIoControl(h, IOCTL_EDU_COMPUTE_FACTORIAL, u32(6), 4, out, 4);
        return le32(out);
      });
      expect(value).toBe(720);
    } finally {
      interrupt.MessageServiceRoutine = isr;
      dpc.DeferredRoutine = deferred;
    }
    expect(info.Irql).toBe(info.Vector >> 4);
    expect(info.Irql).toBeGreaterThan(DISPATCH_LEVEL);
    expect(isrs.length).toBeGreaterThan(0);
    for (const s of isrs) {
      expect(s.irql).toBe(info.Vector >> 4);
      expect(s.lockHeld).toBe(true);
      expect(s.message).toBe(0);
      expect(info.TargetProcessorSet & (1 << s.cpu)).not.toBe(0);
    }
    expect(dpcs.length).toBeGreaterThan(0);
    for (const d of dpcs) expect(d).toEqual({ irql: DISPATCH_LEVEL, cpu: isrs[0].cpu });
    expect(stats.isrs - before.isrs).toBeGreaterThan(0);
    expect(stats.dpcs - before.dpcs).toBeGreaterThan(0);
    expect(stats.interruptToDpc.count - before.samples).toBeGreaterThan(0);
    // An interrupt's DPC can only start after the interrupt arrived.
    expect(stats.interruptToDpc.min).toBeGreaterThan(0);
    expect(stats.unclaimedInterrupts).toBe(0);
  });

  it("KeSynchronizeExecution runs the routine at the synchronize IRQL holding the interrupt lock and returns its result unchanged", async () => {
    const ext = eduExtension(machine);
    const interrupt = ext.Interrupt as KINTERRUPT;
    const r = await machine.exec(() => {
      const k = KE();
      const inside: { irql: number; held: boolean }[] = [];
      const results = [false, true].map((want) => KeSynchronizeExecution(interrupt, (ctx) => {
        inside.push({ irql: k.cpu.irql, held: interrupt.SpinLock.owner === k.cpu.Number });
        return ctx as boolean;
      }, want));
      return { results, inside, after: KeGetCurrentIrql(), heldAfter: interrupt.SpinLock.owner };
    });
    expect(r.results).toEqual([false, true]);
    expect(r.inside).toEqual([{ irql: interrupt.SynchronizeIrql, held: true }, { irql: interrupt.SynchronizeIrql, held: true }]);
    expect(interrupt.SynchronizeIrql).toBeGreaterThanOrEqual(interrupt.Irql);
    expect(r.after).toBe(PASSIVE_LEVEL);
    expect(r.heldAfter).toBe(-1);
  });
});
