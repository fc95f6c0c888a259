// Injected NVMe faults for recovery tests (Machine.injectFault, the core's injectFault):
// "drop" (the next I/O commands fetched never complete: no completion entry, no interrupt;
// Abort, Delete I/O SQ or a reset release them), "fatal" (CSTS.CFS now, nothing fetched or
// completed until CC.EN is cleared) and "status" (the next I/O commands fail with a given
// status after their media time, moving no data); each effect recorded as a device error;
// and the checks on the arguments.
import { describe, expect, test } from "vitest";
import { ADMIN, CC, CSTS, IO, L, MEM, Nvme, REG, SC, readyNvme, type Completion, type NvmeOptions } from "../support/nvme-harness.js";
import { pattern, type TraceRecord } from "../support/core-harness.js";
import { Machine, type NvmeFault } from "../../src/machine/machine.js";

const NS = 1e3;
const US = 1e6;

function status(c: Completion): [number, number] {
  return [c.sct, c.sc];
}

/** A ready controller with MSI-X on (vector 0x60 + entry), I/O queue pair 1 on vector 1, no jitter, tracing. */
function msixReady(options: NvmeOptions = {}): Nvme {
  const n = readyNvme({ trace: true, ...options, params: { readJitterNs: 0, writeJitterNs: 0, ...(options.params ?? {}) } });
  for (let e = 0; e < 4; e++) n.msixEntry(e, 0x60 + e);
  n.enableMsix();
  n.createPair(1, 64, 1);
  n.takeInterrupts();
  n.settle();
  n.h.drainTrace();
  return n;
}

function inject(n: Nvme, fault: NvmeFault): void {
  n.h.machine.injectFault(n.location, fault);
}

const of = (records: TraceRecord[], kind: number, pred: (r: TraceRecord) => boolean = () => true) => records.filter((r) => r.kind === kind && pred(r));
const fetches = (records: TraceRecord[]) => of(records, L.TR_DMA_READ, (r) => r.a === 64);
const cqes = (records: TraceRecord[]) => of(records, L.TR_DMA_WRITE, (r) => r.a === 16);
const errors = (n: Nvme, records: TraceRecord[]) => of(records, L.TR_DEVICE_ERROR, (r) => r.fn === n.fn);

function read(n: Nvme, lba = 0, buffer: number = MEM.DATA): ReturnType<Nvme["rw"]> {
  return n.rw(IO.READ, lba, 1, { prp1: buffer, prp2: 0 });
}

describe("drop", () => {
  test("the next `count` I/O commands fetched never complete (no completion entry, no MSI); the next one does, its SQ head counting them", () => {
    const n = msixReady();
    const before = n.h.counters().deviceErrors;
    inject(n, { kind: "drop", count: 2 });
    const cids = [0, 1, 2].map((k) => n.submit(1, read(n, k, MEM.DATA + k * 0x1000), false));
    n.ring(1);
    n.settle();
    const records = n.h.drainTrace();
    expect(fetches(records).length).toBe(3);
    expect(cqes(records).length).toBe(1);
    expect(of(records, L.TR_MSI).length).toBe(1);
    const got = n.reap(1);
    expect(got.map((c) => c.cid)).toEqual([cids[2]]);
    expect(got[0].sqhd).toBe(3);
    // Each drop is a device error when the controller takes the entry (its fetch completes).
    const dropped = errors(n, records);
    expect(dropped.map((r) => [r.a, Number(r.b)])).toEqual(cids.slice(0, 2).map((cid) => [L.NVME_ERROR_INJECTED_DROP, (1 << 16) | cid]));
    expect(dropped.map((r) => r.time)).toEqual(fetches(records).slice(0, 2).map((r) => Number(r.c)));
    expect(n.h.counters().deviceErrors - before).toBe(2);
    n.h.advance(10_000 * US);
    expect(n.reap(1)).toEqual([]);
  });

  test("admin commands are never dropped", () => {
    const n = msixReady();
    inject(n, { kind: "drop", count: 1 });
    expect(status(n.identify(1).c)).toEqual([0, 0]);
    n.submit(1, read(n));
    n.settle();
    expect(n.reap(1)).toEqual([]);
  });

  test("a dropped command keeps its slot: with parallelism 2 and both dropped nothing more is fetched; CC.EN 1 -> 0 forgets them", () => {
    const n = msixReady({ params: { parallelism: 2 } });
    inject(n, { kind: "drop", count: 2 });
    for (let k = 0; k < 3; k++) n.submit(1, read(n, k), false);
    n.ring(1);
    n.h.advance(1000 * US);
    expect(fetches(n.h.drainTrace()).length).toBe(2);
    // Not even an admin command is fetched now.
    n.submit(0, { opcode: ADMIN.IDENTIFY, prp1: MEM.ID_BUFFER, cdw10: 1 });
    n.h.advance(1000 * US);
    expect(fetches(n.h.drainTrace()).length).toBe(0);
    n.write32(REG.CC, CC.IOSQES | CC.IOCQES);
    expect(n.read32(REG.CSTS) & CSTS.RDY).toBe(0);
    n.enable();
    n.createPair(1, 64, 1);
    n.settle();
    n.h.drainTrace();
    n.submit(1, read(n, 0), false);
    n.submit(1, read(n, 1), false);
    n.ring(1);
    n.settle();
    const records = n.h.drainTrace();
    const f = fetches(records);
    expect(f.length).toBe(2);
    expect(f[0].time).toBe(f[1].time); // both slots free again
    expect(n.reap(1).map(status)).toEqual([[0, 0], [0, 0]]);
    expect(errors(n, records)).toEqual([]);
  });

  test("Abort naming a dropped command: it completes with command abort requested (0x07) when the Abort executes, the Abort with DW0 bit 0 clear", () => {
    const n = msixReady();
    inject(n, { kind: "drop", count: 1 });
    const cid = n.submit(1, read(n));
    n.settle();
    expect(n.reap(1)).toEqual([]);
    n.h.drainTrace();
    const other = n.exec(0, { opcode: ADMIN.ABORT, cdw10: ((cid + 1) << 16) | 1 });
    expect(other.dw0 & 1).toBe(1);
    n.h.drainTrace();
    const abort = n.exec(0, { opcode: ADMIN.ABORT, cdw10: (cid << 16) | 1 });
    expect(status(abort)).toEqual([0, 0]);
    expect(abort.dw0 & 1).toBe(0);
    const records = n.h.drainTrace();
    const got = n.reap(1);
    expect(got.map((c) => [c.cid, c.sct, c.sc, c.dnr])).toEqual([[cid, 0, SC.ABORT_REQUESTED, 0]]);
    // Both completion entries leave when the Abort executes: after its decode and admin time.
    const executed = Number(fetches(records)[0].c) + n.param("commandCycles") * n.cyclePs + n.param("adminLatencyNs") * NS;
    expect(cqes(records).map((r) => r.time)).toEqual([executed, executed]);
    expect(cqes(records).map((r) => Number(r.b))).toEqual([MEM.CQ_BASE + MEM.CQ_STRIDE, MEM.ACQ + abort.index * 16]);
    // The aborted command's interrupt is its own queue's vector.
    expect(n.takeInterrupts().map((i) => i.vector).sort()).toEqual([0x60, 0x61]);
  });

  test("Delete I/O SQ completes dropped commands with aborted due to SQ deletion (0x08), then itself", () => {
    const n = msixReady();
    inject(n, { kind: "drop", count: 2 });
    const cids = [n.submit(1, read(n, 0)), n.submit(1, read(n, 1))];
    n.settle();
    n.h.drainTrace();
    const del = n.exec(0, { opcode: ADMIN.DELETE_SQ, cdw10: 1 });
    expect(status(del)).toEqual([0, 0]);
    const got = n.reap(1);
    expect(got.map((c) => [c.cid, c.sct, c.sc, c.dnr]).sort()).toEqual(cids.map((cid) => [cid, 0, SC.ABORTED_SQ_DELETION, 0]).sort());
    const written = cqes(n.h.drainTrace()).map((r) => Number(r.b));
    expect(written).toEqual([MEM.CQ_BASE + MEM.CQ_STRIDE, MEM.CQ_BASE + MEM.CQ_STRIDE + 16, MEM.ACQ + del.index * 16]);
    // The queue is gone: its CQ can be deleted now.
    expect(status(n.exec(0, { opcode: ADMIN.DELETE_CQ, cdw10: 1 }))).toEqual([0, 0]);
  });

  test("count 0 disarms; armed drops outlive a controller reset", () => {
    const n = msixReady();
    inject(n, { kind: "drop", count: 5 });
    inject(n, { kind: "drop", count: 0 });
    expect(status(n.exec(1, read(n)))).toEqual([0, 0]);
    inject(n, { kind: "drop" }); // count 1 by default
    n.write32(REG.CC, CC.IOSQES | CC.IOCQES);
    n.enable();
    n.createPair(1);
    n.submit(1, read(n));
    n.settle();
    expect(n.reap(1)).toEqual([]);
    expect(status(n.exec(1, read(n)))).toEqual([0, 0]);
  });
});

describe("fatal", () => {
  test("CSTS.CFS is set at the machine's current time (RDY stays set), recorded as a device error", () => {
    const n = msixReady();
    expect(n.read32(REG.CSTS)).toBe(CSTS.RDY);
    n.h.drainTrace();
    const at = n.h.machine.nowPs;
    inject(n, { kind: "fatal" });
    expect(n.read32(REG.CSTS)).toBe(CSTS.RDY | CSTS.CFS);
    const e = errors(n, n.h.drainTrace());
    expect(e.map((r) => [r.a, r.time])).toEqual([[L.NVME_ERROR_INJECTED_FATAL, at]]);
    // A second injection changes nothing.
    inject(n, { kind: "fatal" });
    expect(errors(n, n.h.drainTrace())).toEqual([]);
  });

  test("nothing more is fetched, executed or completed, and no interrupt is sent, until CC.EN is cleared; then the controller works again", () => {
    const n = msixReady({ params: { parallelism: 1 } });
    n.submit(1, read(n, 0));
    n.h.advance(10 * US); // fetched, in its media time
    expect(fetches(n.h.drainTrace()).length).toBe(1);
    inject(n, { kind: "fatal" });
    n.submit(1, read(n, 1));
    n.submit(0, { opcode: ADMIN.IDENTIFY, prp1: MEM.ID_BUFFER, cdw10: 1 });
    n.h.advance(10_000 * US);
    const records = n.h.drainTrace();
    expect(fetches(records)).toEqual([]);
    expect(cqes(records)).toEqual([]);
    expect(of(records, L.TR_DMA_WRITE)).toEqual([]);
    expect(of(records, L.TR_MSI)).toEqual([]);
    expect(n.reap(1)).toEqual([]);
    expect(n.reap(0)).toEqual([]);
    expect(n.read32(REG.CSTS) & CSTS.CFS).toBe(CSTS.CFS);
    // The reset clears CFS and RDY and frees the stalled slot.
    n.write32(REG.CC, CC.IOSQES | CC.IOCQES);
    expect(n.read32(REG.CSTS)).toBe(0);
    n.enable();
    expect(n.read32(REG.CSTS)).toBe(CSTS.RDY);
    n.createPair(1, 64, 1);
    expect(status(n.exec(1, read(n, 2)))).toEqual([0, 0]);
  });

  test("refused while CC.EN is 0: nothing to fail", () => {
    const n = readyNvme();
    n.write32(REG.CC, 0);
    expect(n.read32(REG.CSTS)).toBe(0); // the posted CC write has reached the controller
    expect(() => inject(n, { kind: "fatal" })).toThrow(/not enabled \(CC\.EN = 0\)/);
    expect(n.read32(REG.CSTS)).toBe(0);
  });
});

describe("status", () => {
  test("0x0281 (SCT 2, SC 0x81 unrecovered read error): the read fails readLatencyNs after decode, no data moved; the next read succeeds", () => {
    const n = msixReady();
    const data = pattern(512, 80);
    n.h.core.writePhysical(MEM.DATA, data);
    expect(status(n.exec(1, n.rw(IO.WRITE, 0, 1, { prp1: MEM.DATA, prp2: 0 })))).toEqual([0, 0]);
    n.h.core.writePhysical(MEM.DATA + 0x10000, new Uint8Array(512));
    n.h.drainTrace();
    inject(n, { kind: "status", status: 0x0281 });
    const c = n.exec(1, read(n, 0, MEM.DATA + 0x10000));
    expect([c.sct, c.sc, c.dnr]).toEqual([2, 0x81, 0]);
    const records = n.h.drainTrace();
    expect(of(records, L.TR_DMA_WRITE, (r) => r.a === 512)).toEqual([]);
    const fetch = fetches(records)[0];
    expect(cqes(records)[0].time).toBe(Number(fetch.c) + n.param("commandCycles") * n.cyclePs + n.param("readLatencyNs") * NS);
    expect(errors(n, records).map((r) => [r.a, r.b, r.time])).toEqual([
      [L.NVME_ERROR_INJECTED_STATUS, (0x0281n << 32n) | (1n << 16n) | BigInt(c.cid), Number(fetch.c)],
    ]);
    expect(n.h.core.readPhysical(MEM.DATA + 0x10000, 512).every((b) => b === 0)).toBe(true);
    expect(status(n.exec(1, read(n, 0, MEM.DATA + 0x10000)))).toEqual([0, 0]);
    expect(n.h.core.readPhysical(MEM.DATA + 0x10000, 512)).toEqual(data);
  });

  test("a write with an injected status (0x4006: internal error, do not retry) stores nothing, after writeLatencyNs", () => {
    const n = msixReady();
    n.h.core.writePhysical(MEM.DATA, pattern(512, 81));
    inject(n, { kind: "status", status: 0x4006 });
    n.h.drainTrace();
    const c = n.exec(1, n.rw(IO.WRITE, 5, 1, { prp1: MEM.DATA, prp2: 0 }));
    expect([c.sct, c.sc, c.dnr]).toEqual([0, 0x06, 1]);
    const records = n.h.drainTrace();
    expect(of(records, L.TR_DMA_READ, (r) => r.a === 512)).toEqual([]);
    expect(cqes(records)[0].time).toBe(Number(fetches(records)[0].c) + n.param("commandCycles") * n.cyclePs + n.param("writeLatencyNs") * NS);
    n.h.core.writePhysical(MEM.DATA + 0x10000, new Uint8Array(512).fill(0xAA));
    n.exec(1, read(n, 5, MEM.DATA + 0x10000));
    expect(n.h.core.readPhysical(MEM.DATA + 0x10000, 512).every((b) => b === 0)).toBe(true);
  });

  test("it takes the next `count` I/O commands (flush too, after flushLatencyNs, and even an invalid one), never admin commands", () => {
    const n = msixReady();
    inject(n, { kind: "status", status: 0x0280, count: 3 });
    expect(status(n.identify(1).c)).toEqual([0, 0]);
    n.h.drainTrace();
    expect(status(n.exec(1, { opcode: IO.FLUSH, nsid: 1 }))).toEqual([2, 0x80]);
    const records = n.h.drainTrace();
    expect(cqes(records)[0].time).toBe(Number(fetches(records)[0].c) + n.param("commandCycles") * n.cyclePs + n.param("flushLatencyNs") * NS);
    expect(status(n.exec(1, n.rw(IO.READ, 0, 1, { prp1: MEM.DATA, prp2: 0 }, 7)))).toEqual([2, 0x80]);
    expect(status(n.exec(1, { opcode: 0x7F }))).toEqual([2, 0x80]);
    expect(status(n.exec(1, read(n)))).toEqual([0, 0]);
    expect(status(n.exec(1, n.rw(IO.READ, 0, 1, { prp1: MEM.DATA, prp2: 0 }, 7)))).toEqual([0, SC.INVALID_NAMESPACE]);
  });

  test("drop comes before status when both are armed", () => {
    const n = msixReady();
    inject(n, { kind: "status", status: 0x0281, count: 1 });
    inject(n, { kind: "drop", count: 1 });
    n.submit(1, read(n));
    n.settle();
    expect(n.reap(1)).toEqual([]);
    expect(status(n.exec(1, read(n)))).toEqual([2, 0x81]);
  });
});

describe("arguments", () => {
  test("a bad location, an unknown kind, a bad count or status: errors naming what is wrong", () => {
    const n = readyNvme();
    const m = n.h.machine;
    expect(() => m.injectFault("3", { kind: "drop" })).toThrow(/"3" is not a PCI location \(bb:dd\.f, hex\)/);
    expect(() => m.injectFault("00:09.0", { kind: "drop" })).toThrow(/no PCI function at 00:09\.0 \(the machine has 00:03\.0\)/);
    expect(() => m.injectFault("00:03.0", { kind: "melt" } as unknown as NvmeFault)).toThrow(/unknown fault kind "melt" for 00:03\.0 \(kinds: drop, fatal, status, mediaError, dropInterrupt, duplicateInterrupt, delayInterrupt, unsupportedRequest, completerAbort\)/);
    expect(() => m.injectFault("00:03.0", undefined as unknown as NvmeFault)).toThrow(/unknown fault kind undefined/);
    for (const count of [-1, 1.5, 2 ** 32, "2"]) {
      expect(() => m.injectFault("00:03.0", { kind: "drop", count } as NvmeFault)).toThrow(/count must be an integer from 0 \(disarm\) to 4294967295/);
    }
    expect(() => m.injectFault("00:03.0", { kind: "status" } as NvmeFault)).toThrow(/status must be the 15-bit NVMe status field/);
    expect(() => m.injectFault("00:03.0", { kind: "status", status: 0x8000 })).toThrow(/15-bit/);
    expect(() => m.injectFault("00:03.0", { kind: "status", status: 0 })).toThrow(/status 0x0 is success/);
    expect(() => m.injectFault("00:03.0", { kind: "status", status: 0x4000 })).toThrow(/is success/);
    expect(() => m.injectFault("00:03.0", { kind: "status", status: 0x0481 })).toThrow(/status code type 4 .* is reserved/);
    // Nothing was armed by the refused calls.
    n.createPair(1);
    expect(status(n.exec(1, read(n)))).toEqual([0, 0]);
  });

  test("a function that is not an NVMe controller, or was pulled out of the machine, is refused", () => {
    const edu = Machine.fromFile("default");
    expect(() => edu.injectFault("00:03.0", { kind: "drop" })).toThrow(/00:03\.0 is not an NVMe controller \(its device file is "edu", model "edu"\)/);
    const storage = Machine.fromFile("storage");
    expect(() => storage.injectFault("00:1c.0", { kind: "drop" })).toThrow(/not an NVMe controller \(its device file is "pcie-root-port", model "bridge"\)/);
    storage.injectFault("01:00.0", { kind: "drop", count: 1 });
    expect(() => storage.injectFault("01:00.0", { kind: "fatal" })).toThrow(/not enabled/);
    storage.pullFunction("01:00.0");
    expect(() => storage.injectFault("01:00.0", { kind: "drop" })).toThrow(/01:00\.0 was removed from the machine/);
  });

  test("the core's injectFault: INJECT_* results for a bad function, a model without faults, a bad kind, argument or state", () => {
    const n = readyNvme();
    const x = n.h.x;
    expect(x.injectFault(200, L.NVME_INJECT_DROP, 1, 0)).toBe(L.INJECT_ERROR_FUNCTION);
    expect(x.injectFault(n.fn, 9, 1, 0)).toBe(L.INJECT_ERROR_KIND);
    expect(x.injectFault(n.fn, L.NVME_INJECT_STATUS, 1, 0)).toBe(L.INJECT_ERROR_ARGUMENT);
    expect(x.injectFault(n.fn, L.NVME_INJECT_STATUS, 1, 0x8001)).toBe(L.INJECT_ERROR_ARGUMENT);
    expect(x.injectFault(n.fn, L.NVME_INJECT_STATUS, 0, 0)).toBe(L.INJECT_OK);
    expect(x.injectFault(n.fn, L.NVME_INJECT_DROP, 0, 0)).toBe(L.INJECT_OK);
    n.write32(REG.CC, 0);
    n.read32(REG.CSTS);
    expect(x.injectFault(n.fn, L.NVME_INJECT_FATAL, 0, 0)).toBe(L.INJECT_ERROR_STATE);
    const edu = Machine.fromFile("default");
    expect(edu.core.x.injectFault(edu.functions[0].index, L.NVME_INJECT_DROP, 1, 0)).toBe(L.INJECT_ERROR_MODEL);
  });
});
