// Several namespaces per NVMe controller (namespaceCount): Identify Controller NN (bytes
// 519:516), Identify Namespace (CNS 0x00) for every NSID with its own NGUID (bytes
// 119:104), the active namespace list (CNS 0x02) and the namespace identification
// descriptors (CNS 0x03), invalid NSIDs ("invalid namespace or format", 0x0B), reads and
// writes each on its own namespace's storage, flush by NSID or for all (0xFFFFFFFF), get
// log page as before; and two controllers in one machine, each with its own registers,
// namespaces and interrupts.
import { describe, expect, test } from "vitest";
import { ADMIN, CSTS, IO, L, MEM, Nvme, REG, SC, nvmePair, readyNvme, type Completion } from "../support/nvme-harness.js";
import { CFG, PAGE, pattern } from "../support/core-harness.js";
import { FIRMWARE_DIR, FirmwareError, loadMachine } from "../../src/machine/firmwareFiles.js";
import { Machine } from "../../src/machine/machine.js";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

const NS = 1e3;

function status(c: Completion): [number, number] {
  return [c.sct, c.sc];
}

/** A controller with `count` namespaces of `blocks` 512-byte blocks, one I/O queue pair. */
function withNamespaces(count: number, blocks = 4096, options: Parameters<typeof readyNvme>[0] = {}): Nvme {
  const n = readyNvme({ ...options, params: { namespaceCount: count, namespaceBlocks: blocks, ...(options.params ?? {}) } });
  n.createPair(1);
  return n;
}

function bytes(data: DataView, at: number, length: number): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset + at, length).slice();
}

function list(data: DataView): number[] {
  const out: number[] = [];
  for (let at = 0; at < 4096; at += 4) {
    const v = data.getUint32(at, true);
    if (v === 0) break;
    out.push(v);
  }
  return out;
}

describe("identify", () => {
  test("Identify Controller: NN (519:516) is namespaceCount; 1 by default", () => {
    expect(readyNvme().identify(1).data.getUint32(516, true)).toBe(1);
    expect(readyNvme({ params: { namespaceCount: 0 } }).identify(1).data.getUint32(516, true)).toBe(1);
    expect(withNamespaces(4).identify(1).data.getUint32(516, true)).toBe(4);
  });

  test("Identify Namespace (CNS 0) for NSIDs 1..NN: size, capacity and utilisation 23:0 from namespaceBlocks, LBA format 0", () => {
    const n = withNamespaces(4, 3000);
    for (let nsid = 1; nsid <= 4; nsid++) {
      const { c, data } = n.identify(0, nsid);
      expect(status(c)).toEqual([0, 0]);
      expect([data.getBigUint64(0, true), data.getBigUint64(8, true), data.getBigUint64(16, true)]).toEqual([3000n, 3000n, 3000n]);
      expect(data.getUint8(25)).toBe(0);
      expect(data.getUint8(26)).toBe(0);
      expect(data.getUint8(130)).toBe(9);
    }
  });

  test("each namespace has its own NGUID (119:104): \"WDMSIM\", the function's bus/device/function, the NSID (big-endian)", () => {
    const n = withNamespaces(3);
    const nguids = [1, 2, 3].map((nsid) => bytes(n.identify(0, nsid).data, 104, 16));
    for (const [k, g] of nguids.entries()) {
      expect(String.fromCharCode(...g.subarray(0, 6))).toBe("WDMSIM");
      expect((g[8] << 8) | g[9]).toBe(0x18); // 00:03.0
      expect(new DataView(g.buffer).getUint32(12, false)).toBe(k + 1);
    }
    expect(new Set(nguids.map((g) => g.join(","))).size).toBe(3);
  });

  test("Identify Namespace with NSID 0, NN + 1 or 0xFFFFFFFF: invalid namespace or format (0x0B), do not retry", () => {
    const n = withNamespaces(4);
    for (const nsid of [0, 5, 0xFFFFFFFF]) {
      const { c } = n.identify(0, nsid);
      expect(status(c)).toEqual([0, SC.INVALID_NAMESPACE]);
      expect(c.dnr).toBe(1);
    }
  });

  test("active namespace list (CNS 2): NSIDs above CDW1.NSID, ascending, zero-filled; 0xFFFFFFFE and 0xFFFFFFFF are invalid", () => {
    const n = withNamespaces(4);
    expect(list(n.identify(2, 0).data)).toEqual([1, 2, 3, 4]);
    expect(list(n.identify(2, 2).data)).toEqual([3, 4]);
    const empty = n.identify(2, 4).data;
    expect(bytes(empty, 0, 4096).every((b) => b === 0)).toBe(true);
    expect(list(n.identify(2, 100).data)).toEqual([]);
    expect(bytes(n.identify(2, 1).data, 12, 4096 - 12).every((b) => b === 0)).toBe(true);
    for (const nsid of [0xFFFFFFFE, 0xFFFFFFFF]) expect(status(n.identify(2, nsid).c)).toEqual([0, SC.INVALID_NAMESPACE]);
  });

  test("the active namespace list holds at most 1024 NSIDs (namespaceCount is capped at 1024)", () => {
    const n = readyNvme({ params: { namespaceCount: 1500, namespaceBlocks: 8 } });
    expect(n.identify(1).data.getUint32(516, true)).toBe(1024);
    const all = list(n.identify(2, 0).data);
    expect(all.length).toBe(1024);
    expect(all[1023]).toBe(1024);
    expect(list(n.identify(2, 1000).data)).toEqual(Array.from({ length: 24 }, (_, k) => 1001 + k));
    expect(status(n.identify(0, 1024).c)).toEqual([0, 0]);
    expect(status(n.identify(0, 1025).c)).toEqual([0, SC.INVALID_NAMESPACE]);
  });

  test("namespace identification descriptors (CNS 3): the NGUID (type 2, length 16) then zeroes; an inactive NSID is invalid", () => {
    const n = withNamespaces(2);
    const { c, data } = n.identify(3, 2);
    expect(status(c)).toEqual([0, 0]);
    expect([data.getUint8(0), data.getUint8(1), data.getUint16(2, true)]).toEqual([0x02, 16, 0]);
    expect(bytes(data, 4, 16)).toEqual(bytes(n.identify(0, 2).data, 104, 16));
    expect(bytes(data, 20, 4096 - 20).every((b) => b === 0)).toBe(true);
    for (const nsid of [0, 3, 0xFFFFFFFF]) expect(status(n.identify(3, nsid).c)).toEqual([0, SC.INVALID_NAMESPACE]);
  });
});

describe("I/O on several namespaces", () => {
  test("the same LBA on each namespace holds its own data (write all, then read all back)", () => {
    const n = withNamespaces(4);
    const data = [1, 2, 3, 4].map((nsid) => pattern(1024, 40 + nsid));
    for (let nsid = 1; nsid <= 4; nsid++) {
      n.h.core.writePhysical(MEM.DATA, data[nsid - 1]);
      expect(status(n.exec(1, n.rw(IO.WRITE, 7, 2, { prp1: MEM.DATA, prp2: 0 }, nsid)))).toEqual([0, 0]);
    }
    for (let nsid = 1; nsid <= 4; nsid++) {
      n.h.core.writePhysical(MEM.DATA + 0x10000, new Uint8Array(1024));
      expect(status(n.exec(1, n.rw(IO.READ, 7, 2, { prp1: MEM.DATA + 0x10000, prp2: 0 }, nsid)))).toEqual([0, 0]);
      expect(n.h.core.readPhysical(MEM.DATA + 0x10000, 1024)).toEqual(data[nsid - 1]);
    }
  });

  test("the last block of one namespace and the first of the next are separate storage", () => {
    const n = withNamespaces(3, 64);
    const last = pattern(512, 50);
    n.h.core.writePhysical(MEM.DATA, last);
    expect(status(n.exec(1, n.rw(IO.WRITE, 63, 1, { prp1: MEM.DATA, prp2: 0 }, 2)))).toEqual([0, 0]);
    for (const [nsid, lba] of [[3, 0], [1, 63], [2, 62]]) {
      n.h.core.writePhysical(MEM.DATA + 0x1000, new Uint8Array(512).fill(0xAA));
      n.exec(1, n.rw(IO.READ, lba, 1, { prp1: MEM.DATA + 0x1000, prp2: 0 }, nsid));
      expect(n.h.core.readPhysical(MEM.DATA + 0x1000, 512).every((b) => b === 0)).toBe(true);
    }
    n.exec(1, n.rw(IO.READ, 63, 1, { prp1: MEM.DATA + 0x1000, prp2: 0 }, 2));
    expect(n.h.core.readPhysical(MEM.DATA + 0x1000, 512)).toEqual(last);
  });

  test("LBA range is per namespace (0x80 past namespaceBlocks on every NSID)", () => {
    const n = withNamespaces(2, 64);
    const p = { prp1: MEM.DATA, prp2: MEM.DATA + PAGE };
    for (const nsid of [1, 2]) {
      expect(status(n.exec(1, n.rw(IO.READ, 64, 1, p, nsid)))).toEqual([0, SC.LBA_RANGE]);
      expect(status(n.exec(1, n.rw(IO.WRITE, 60, 8, p, nsid)))).toEqual([0, SC.LBA_RANGE]);
      expect(status(n.exec(1, n.rw(IO.READ, 56, 8, p, nsid)))).toEqual([0, 0]);
    }
  });

  test("read and write with NSID 0, NN + 1 or 0xFFFFFFFF: invalid namespace (0x0B), no data moved", () => {
    const n = withNamespaces(2, 64, { trace: true });
    n.h.drainTrace();
    for (const nsid of [0, 3, 0xFFFFFFFF]) {
      for (const op of [IO.READ, IO.WRITE]) {
        const c = n.exec(1, n.rw(op, 0, 1, { prp1: MEM.DATA, prp2: 0 }, nsid));
        expect(status(c)).toEqual([0, SC.INVALID_NAMESPACE]);
        expect(c.dnr).toBe(1);
      }
    }
    // Only the entry fetches (64 bytes) and completions (16 bytes) crossed the link.
    const dma = n.h.drainTrace().filter((r) => r.kind === L.TR_DMA_READ || r.kind === L.TR_DMA_WRITE);
    expect(new Set(dma.map((r) => r.a))).toEqual(new Set([64, 16]));
  });

  test("flush: NSIDs 1..NN and 0xFFFFFFFF (all) succeed after flushLatencyNs; NSID 0 and NN + 1 are invalid", () => {
    const n = withNamespaces(3, 64, { trace: true });
    for (let e = 0; e < 2; e++) n.msixEntry(e, 0x60 + e);
    n.enableMsix();
    for (const nsid of [1, 2, 3, 0xFFFFFFFF]) {
      n.h.drainTrace();
      expect(status(n.exec(1, { opcode: IO.FLUSH, nsid }))).toEqual([0, 0]);
      const records = n.h.drainTrace();
      const fetch = records.find((r) => r.kind === L.TR_DMA_READ && r.a === 64)!;
      const cqe = records.find((r) => r.kind === L.TR_DMA_WRITE && r.a === 16)!;
      expect(cqe.time).toBe(Number(fetch.c) + n.param("commandCycles") * n.cyclePs + n.param("flushLatencyNs") * NS);
    }
    for (const nsid of [0, 4]) expect(status(n.exec(1, { opcode: IO.FLUSH, nsid }))).toEqual([0, SC.INVALID_NAMESPACE]);
  });

  test("a read on the last namespace takes the same time as on the first: data readLatencyNs after decode", () => {
    const n = withNamespaces(4, 64, { trace: true, params: { readJitterNs: 0 } });
    const times = [1, 4].map((nsid) => {
      n.h.drainTrace();
      n.exec(1, n.rw(IO.READ, 3, 1, { prp1: MEM.DATA, prp2: 0 }, nsid));
      const records = n.h.drainTrace();
      const fetch = records.find((r) => r.kind === L.TR_DMA_READ && r.a === 64)!;
      const data = records.find((r) => r.kind === L.TR_DMA_WRITE && r.a === 512)!;
      return data.time - Number(fetch.c);
    });
    expect(times[0]).toBe(n.param("commandCycles") * n.cyclePs + n.param("readLatencyNs") * NS);
    expect(times[1]).toBe(times[0]);
  });

  test("4096-byte blocks on every namespace: round trip on NSID 2 at its last LBA", () => {
    const n = withNamespaces(2, 16, { params: { blockSize: 4096 } });
    const data = pattern(4096, 60);
    n.h.core.writePhysical(MEM.DATA, data);
    expect(status(n.exec(1, n.rw(IO.WRITE, 15, 1, { prp1: MEM.DATA, prp2: 0 }, 2)))).toEqual([0, 0]);
    expect(status(n.exec(1, n.rw(IO.READ, 15, 1, { prp1: MEM.DATA + 0x10000, prp2: 0 }, 2)))).toEqual([0, 0]);
    expect(n.h.core.readPhysical(MEM.DATA + 0x10000, 4096)).toEqual(data);
    expect(n.identify(0, 2).data.getUint8(130)).toBe(12);
  });

  test("get log page is unchanged: SMART/health with NSID 0xFFFFFFFF, 1 or 2 returns the same 512 bytes", () => {
    const n = withNamespaces(2);
    const pages = [0xFFFFFFFF, 1, 2].map((nsid) => {
      n.h.core.writePhysical(MEM.ID_BUFFER, new Uint8Array(512).fill(0xEE));
      expect(status(n.exec(0, { opcode: ADMIN.GET_LOG_PAGE, nsid, prp1: MEM.ID_BUFFER, cdw10: (127 << 16) | 0x02 }))).toEqual([0, 0]);
      return n.h.core.readPhysical(MEM.ID_BUFFER, 512);
    });
    expect(pages[0][3]).toBe(100);
    expect(pages[1]).toEqual(pages[0]);
    expect(pages[2]).toEqual(pages[0]);
  });

  test("namespaces that do not fit in the core's memory after guest RAM: the machine is refused with a message naming them", () => {
    const make = () => readyNvme({ params: { namespaceCount: 8, namespaceBlocks: 2 ** 20 } }); // 8 x 512 MiB
    expect(make).toThrow(FirmwareError);
    expect(make).toThrow(/namespaceCount x namespaceBlocks x blockSize = 4096 MiB/);
    // Two controllers of 2 GiB each: the first fits, the second does not.
    const pair = () => nvmePair({ params: { namespaceCount: 2, namespaceBlocks: 2 ** 21 } });
    expect(pair).toThrow(/\/pci\/slots\/1\/device: the NVMe namespaces \(namespaceCount x namespaceBlocks x blockSize = 2048 MiB\) do not fit/);
  });
});

describe("two controllers in one machine", () => {
  test("both enumerate with their own BARs: separate serial numbers, NGUIDs, and NN from their own parameters", () => {
    const [a, b] = nvmePair({}, { namespaceCount: 3 });
    expect(a.location).toBe("00:03.0");
    expect(b.location).toBe("00:04.0");
    expect(b.h.cfgRead(CFG.DEVICE, 2, b.bdf)).toBe(0x4E56);
    a.enable();
    b.enable();
    const ida = a.identify(1).data;
    const idb = b.identify(1).data;
    const serial = (d: DataView) => String.fromCharCode(...bytes(d, 4, 20)).trim();
    expect(serial(ida)).toBe("WDMSIM-NVME-0018");
    expect(serial(idb)).toBe("WDMSIM-NVME-0020");
    expect(ida.getUint32(516, true)).toBe(1);
    expect(idb.getUint32(516, true)).toBe(3);
    expect(bytes(a.identify(0, 1).data, 104, 16)).not.toEqual(bytes(b.identify(0, 1).data, 104, 16));
  });

  test("registers are per controller: resetting one (CC.EN 1 -> 0) leaves the other ready with its queues", () => {
    const [a, b] = nvmePair();
    a.enable();
    b.enable();
    a.createPair(1);
    b.createPair(1);
    a.write32(REG.CC, 0);
    expect(a.read32(REG.CSTS) & CSTS.RDY).toBe(0);
    expect(b.read32(REG.CSTS) & CSTS.RDY).toBe(CSTS.RDY);
    expect(status(b.exec(1, b.rw(IO.READ, 0, 1, { prp1: b.mem.DATA, prp2: 0 })))).toEqual([0, 0]);
  });

  test("each controller has its own namespace storage: the same LBA written on both reads back each one's data", () => {
    const [a, b] = nvmePair();
    for (const n of [a, b]) { n.enable(); n.createPair(1); }
    const da = pattern(4096, 70);
    const db = pattern(4096, 71);
    a.h.core.writePhysical(a.mem.DATA, da);
    b.h.core.writePhysical(b.mem.DATA, db);
    // Both commands in flight at once.
    a.submit(1, a.rw(IO.WRITE, 5, 8, { prp1: a.mem.DATA, prp2: 0 }));
    b.submit(1, b.rw(IO.WRITE, 5, 8, { prp1: b.mem.DATA, prp2: 0 }));
    a.settle();
    expect(a.reap(1).map(status)).toEqual([[0, 0]]);
    expect(b.reap(1).map(status)).toEqual([[0, 0]]);
    for (const [n, want] of [[a, da], [b, db]] as const) {
      expect(status(n.exec(1, n.rw(IO.READ, 5, 8, { prp1: n.mem.DATA + 0x10000, prp2: 0 })))).toEqual([0, 0]);
      expect(n.h.core.readPhysical(n.mem.DATA + 0x10000, 4096)).toEqual(want);
    }
  });

  test("MSI-X per controller: each completion raises its own controller's vector, at its completion entry's time", () => {
    const [a, b] = nvmePair({ trace: true });
    for (const [n, base] of [[a, 0x60], [b, 0x70]] as const) {
      n.enable();
      for (let e = 0; e < 2; e++) n.msixEntry(e, base + e);
      n.enableMsix();
      n.createPair(1, 16, 1);
    }
    a.takeInterrupts();
    a.h.drainTrace();
    b.submit(1, b.rw(IO.READ, 0, 1, { prp1: b.mem.DATA, prp2: 0 }));
    b.settle();
    const records = b.h.drainTrace();
    const cqe = records.find((r) => r.kind === L.TR_DMA_WRITE && r.a === 16)!;
    const msi = records.filter((r) => r.kind === L.TR_MSI);
    expect(cqe.fn).toBe(b.fn);
    expect(msi.map((r) => r.fn)).toEqual([b.fn]);
    expect(msi[0].time).toBe(cqe.time);
    expect(b.takeInterrupts().map((i) => i.vector)).toEqual([0x71]);
    expect(a.reap(1)).toEqual([]);
    expect(b.reap(1).map(status)).toEqual([[0, 0]]);
  });

  test("a machine file with two controllers behind two root ports, each slot with its own parameters, powers on", () => {
    const m = JSON.parse(readFileSync(join(FIRMWARE_DIR, "machines", "storage.json"), "utf8"));
    m.pci.slots = [
      { address: "00:1c.0", device: "pcie-root-port" },
      { address: "00:1d.0", device: "pcie-root-port" },
      { address: "01:00.0", device: "nvme", behind: "00:1c.0", params: { namespaceCount: 2, namespaceBlocks: 8192 } },
      { address: "02:00.0", device: "nvme", behind: "00:1d.0", params: { namespaceBlocks: 16384, blockSize: 4096 } },
    ];
    const file = join(mkdtempSync(join(tmpdir(), "wdmsim-nvme-")), "two.json");
    writeFileSync(file, JSON.stringify(m));
    const d = loadMachine(file);
    const nvmes = d.slots.filter((x) => x.spec.model === "nvme");
    expect(nvmes.map((x) => [x.bus, x.spec.params.namespaceCount ?? 1, x.spec.params.namespaceBlocks, x.spec.params.blockSize])).toEqual([
      [1, 2, 8192, 512], [2, 1, 16384, 4096],
    ]);
    const machine = Machine.fromDescription(d);
    const fns = machine.functions.filter((f) => f.deviceFile === "nvme");
    expect(fns.map((f) => `${f.bus}:${f.device}.${f.function}`)).toEqual(["1:0.0", "2:0.0"]);
    for (const f of fns) expect(machine.core.x.configRead(f.index, 0x08, 4) >>> 8).toBe(0x010802);
    machine.injectFault("02:00.0", { kind: "drop", count: 1 });
  });
});
