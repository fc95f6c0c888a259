// NVMe admin commands and error paths (shared/specs/nvme.md "Admin commands", "Queue
// entries" status codes, "Registers" doorbell errors, "PRPs"): queue creation and deletion
// with their command-specific errors, identify data at its byte offsets, features, abort,
// invalid opcodes, doorbell errors, DMA errors.
import { describe, expect, test } from "vitest";
import { ADMIN, IO, L, MEM, Nvme, REG, SC, SC_CMD, readyNvme } from "../support/nvme-harness.js";
import { CFG, CMD, pattern } from "../support/core-harness.js";

const US = 1e6;
/** A bus address nothing backs (below the PCI window, above the test machine's 32 MiB of RAM). */
const UNBACKED = 0x80000000;

function ok(c: { sc: number; sct: number }): void {
  expect({ sc: c.sc, sct: c.sct }).toEqual({ sc: 0, sct: 0 });
}

function status(c: { sc: number; sct: number }): [number, number] {
  return [c.sct, c.sc];
}

function createCqRaw(n: Nvme, qid: number, qsize: number, cdw11: number, prp1 = MEM.CQ_BASE + qid * MEM.CQ_STRIDE) {
  return n.exec(0, { opcode: ADMIN.CREATE_CQ, prp1, cdw10: (qsize << 16) | qid, cdw11 });
}

function createSqRaw(n: Nvme, qid: number, qsize: number, cdw11: number, prp1 = MEM.SQ_BASE + qid * MEM.SQ_STRIDE) {
  return n.exec(0, { opcode: ADMIN.CREATE_SQ, prp1, cdw10: (qsize << 16) | qid, cdw11 });
}

describe("create I/O CQ (0x05)", () => {
  test("creates a queue: success, SQ head and SQ id 0 in the completion", () => {
    const n = readyNvme();
    const c = n.createCq(1, 16);
    ok(c);
    expect(c.sqid).toBe(0);
    expect(c.sqhd).toBe(1);
  });

  test("invalid queue identifier (type 1, 0x01): QID 0, QID above the queues supported, QID already in use", () => {
    const n = readyNvme();
    expect(status(createCqRaw(n, 0, 15, 3))).toEqual([1, SC_CMD.INVALID_QID]);
    expect(status(createCqRaw(n, n.param("ioQueuePairs") + 1, 15, 3))).toEqual([1, SC_CMD.INVALID_QID]);
    ok(n.createCq(2, 16));
    expect(status(createCqRaw(n, 2, 15, 3))).toEqual([1, SC_CMD.INVALID_QID]);
  });

  test("invalid queue size (type 1, 0x02): QSIZE 0 (one entry) and QSIZE above CAP.MQES", () => {
    const n = readyNvme();
    expect(status(createCqRaw(n, 1, 0, 3))).toEqual([1, SC_CMD.INVALID_QSIZE]);
    expect(status(createCqRaw(n, 1, n.param("maxQueueEntries"), 3))).toEqual([1, SC_CMD.INVALID_QSIZE]);
    ok(createCqRaw(n, 1, n.param("maxQueueEntries") - 1, 3));
  });

  test("invalid interrupt vector (type 1, 0x08): a vector beyond the MSI-X table, with interrupts enabled", () => {
    const n = readyNvme();
    const vectors = n.param("ioQueuePairs") + 1;
    expect(status(createCqRaw(n, 1, 15, (vectors << 16) | 3))).toEqual([1, SC_CMD.INVALID_VECTOR]);
    ok(createCqRaw(n, 1, 15, ((vectors - 1) << 16) | 3));
    // With interrupts disabled the vector is not used and not checked.
    ok(createCqRaw(n, 2, 15, (vectors << 16) | 1));
  });

  test("errors carry do-not-retry", () => {
    const n = readyNvme();
    expect(createCqRaw(n, 0, 15, 3).dnr).toBe(1);
  });

  test("physically contiguous required (CAP.CQR): PC = 0 or an unaligned base is an invalid field", () => {
    const n = readyNvme();
    expect(status(createCqRaw(n, 1, 15, 2))).toEqual([0, SC.INVALID_FIELD]);
    expect(status(createCqRaw(n, 1, 15, 3, MEM.CQ_BASE + 0x40))).toEqual([0, SC.INVALID_FIELD]);
  });
});

describe("create I/O SQ (0x01)", () => {
  test("invalid queue identifier: QID 0, above the queues supported, already in use", () => {
    const n = readyNvme();
    ok(n.createCq(1, 16));
    expect(status(createSqRaw(n, 0, 15, (1 << 16) | 1))).toEqual([1, SC_CMD.INVALID_QID]);
    expect(status(createSqRaw(n, n.param("ioQueuePairs") + 1, 15, (1 << 16) | 1))).toEqual([1, SC_CMD.INVALID_QID]);
    ok(n.createSq(1, 16, 1));
    expect(status(createSqRaw(n, 1, 15, (1 << 16) | 1))).toEqual([1, SC_CMD.INVALID_QID]);
  });

  test("invalid queue size: QSIZE 0 and above CAP.MQES", () => {
    const n = readyNvme();
    ok(n.createCq(1, 16));
    expect(status(createSqRaw(n, 1, 0, (1 << 16) | 1))).toEqual([1, SC_CMD.INVALID_QSIZE]);
    expect(status(createSqRaw(n, 1, n.param("maxQueueEntries"), (1 << 16) | 1))).toEqual([1, SC_CMD.INVALID_QSIZE]);
  });

  test("completion queue invalid (type 1, 0x00): CQID 0 or a CQ that does not exist", () => {
    const n = readyNvme();
    expect(status(createSqRaw(n, 1, 15, (0 << 16) | 1))).toEqual([1, SC_CMD.CQ_INVALID]);
    expect(status(createSqRaw(n, 1, 15, (3 << 16) | 1))).toEqual([1, SC_CMD.CQ_INVALID]);
  });

  test("several SQs may share one CQ", () => {
    const n = readyNvme();
    ok(n.createCq(1, 32));
    ok(n.createSq(1, 16, 1));
    ok(n.createSq(2, 16, 1));
    n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.submit(2, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    expect(n.reap(1).map((c) => c.sqid).sort()).toEqual([1, 2]);
  });
});

describe("number of queues (feature 0x07)", () => {
  test("DW0 returns what was allocated (zero-based); creation checks queue ids against it", () => {
    const n = readyNvme();
    const c = n.exec(0, { opcode: ADMIN.SET_FEATURES, cdw10: 0x07, cdw11: (3 << 16) | 3 });
    ok(c);
    expect(c.dw0).toBe((3 << 16) | 3);
    ok(n.createCq(4, 16));
    expect(status(n.createCq(5, 16))).toEqual([1, SC_CMD.INVALID_QID]);
    expect(n.exec(0, { opcode: ADMIN.GET_FEATURES, cdw10: 0x07 }).dw0).toBe((3 << 16) | 3);
  });

  test("a request above the supported count allocates what is supported", () => {
    const n = readyNvme();
    const max = n.param("ioQueuePairs") - 1;
    expect(n.exec(0, { opcode: ADMIN.SET_FEATURES, cdw10: 0x07, cdw11: (100 << 16) | 200 }).dw0).toBe((max << 16) | max);
  });

  test("0xFFFF requested is an invalid field", () => {
    const n = readyNvme();
    expect(status(n.exec(0, { opcode: ADMIN.SET_FEATURES, cdw10: 0x07, cdw11: 0xFFFF }))).toEqual([0, SC.INVALID_FIELD]);
  });
});

describe("delete I/O SQ (0x00) and CQ (0x04)", () => {
  test("delete SQ then CQ: success; deleting again is an invalid queue identifier", () => {
    const n = readyNvme();
    n.createPair(1);
    ok(n.exec(0, { opcode: ADMIN.DELETE_SQ, cdw10: 1 }));
    expect(status(n.exec(0, { opcode: ADMIN.DELETE_SQ, cdw10: 1 }))).toEqual([1, SC_CMD.INVALID_QID]);
    ok(n.exec(0, { opcode: ADMIN.DELETE_CQ, cdw10: 1 }));
    expect(status(n.exec(0, { opcode: ADMIN.DELETE_CQ, cdw10: 1 }))).toEqual([1, SC_CMD.INVALID_QID]);
  });

  test("the admin queues (QID 0) cannot be deleted: invalid queue identifier", () => {
    const n = readyNvme();
    expect(status(n.exec(0, { opcode: ADMIN.DELETE_SQ, cdw10: 0 }))).toEqual([1, SC_CMD.INVALID_QID]);
    expect(status(n.exec(0, { opcode: ADMIN.DELETE_CQ, cdw10: 0 }))).toEqual([1, SC_CMD.INVALID_QID]);
  });

  test("deleting a CQ that still has an SQ is an invalid queue deletion (type 1, 0x0C)", () => {
    const n = readyNvme();
    n.createPair(1);
    expect(status(n.exec(0, { opcode: ADMIN.DELETE_CQ, cdw10: 1 }))).toEqual([1, SC_CMD.INVALID_DELETION]);
  });

  test("delete SQ with commands in flight completes after they have completed", () => {
    const n = readyNvme({ trace: true });
    n.createPair(1);
    for (let k = 0; k < 3; k++) n.submit(1, n.rw(IO.READ, k, 1, { prp1: MEM.DATA + k * 4096, prp2: 0 }));
    n.h.advance(2 * US); // the reads are fetched and in the media
    const del = n.submit(0, { opcode: ADMIN.DELETE_SQ, cdw10: 1 });
    n.settle();
    const io = n.reap(1);
    expect(io.length).toBe(3);
    expect(n.reap(0).find((c) => c.cid === del)!.sc).toBe(0);
    const cqeWrites = n.h.drainTrace().filter((r) => r.kind === L.TR_DMA_WRITE && r.a === 16);
    const lastIo = Math.max(...cqeWrites.filter((r) => Number(r.b) >= MEM.CQ_BASE + MEM.CQ_STRIDE).map((r) => r.time));
    const delWrite = cqeWrites.filter((r) => Number(r.b) >= MEM.ACQ && Number(r.b) < MEM.ACQ + 0x1000).at(-1)!.time;
    expect(delWrite).toBeGreaterThanOrEqual(lastIo);
  });

  test("a deleted SQ's doorbell is a write to a queue that does not exist", () => {
    const n = readyNvme({ trace: true });
    n.createPair(1);
    ok(n.exec(0, { opcode: ADMIN.DELETE_SQ, cdw10: 1 }));
    n.deviceErrors();
    n.write32(n.sqDoorbell(1), 1);
    n.h.advance(US);
    expect(n.deviceErrors().map((e) => e.code)).toEqual([L.NVME_ERROR_DOORBELL_QUEUE]);
  });
});

describe("identify (0x06)", () => {
  test("controller (CNS 1): PCI vendor 1:0, subsystem vendor 3:2, serial 23:4, model 63:24, firmware 71:64 (ASCII, space padded)", () => {
    const n = readyNvme();
    const { c, data } = n.identify(1);
    ok(c);
    expect(data.getUint16(0, true)).toBe(0x1234);
    expect(data.getUint16(2, true)).toBe(0x1234);
    const text = (a: number, b: number) => String.fromCharCode(...new Uint8Array(data.buffer, data.byteOffset + a, b - a + 1));
    expect(text(4, 23)).toBe("WDMSIM-NVME-0018    ");
    expect(text(24, 63)).toBe("wdmsim NVMe controller".padEnd(40, " "));
    expect(text(64, 71)).toBe("1.0     ");
  });

  test("controller: MDTS 77, controller id 79:78, version 83:80, SQES 512 = 0x66, CQES 513 = 0x44, NN 519:516 = 1", () => {
    const n = readyNvme();
    const { data } = n.identify(1);
    expect(data.getUint8(77)).toBe(n.param("mdts"));
    expect(data.getUint16(78, true)).toBe(0);
    expect(data.getUint32(80, true)).toBe(0x00010400);
    expect(data.getUint8(512)).toBe(0x66);
    expect(data.getUint8(513)).toBe(0x44);
    expect(data.getUint32(516, true)).toBe(1);
    expect(data.getUint8(258)).toBe(3); // ACL
    expect(data.getUint8(259)).toBe(3); // AERL
  });

  test("namespace (CNS 0, NSID 1): size/capacity/utilisation 23:0, NLBAF 25 = 0, FLBAS 26 = 0, LBA format 0 at 131:128 (LBADS 9)", () => {
    const n = readyNvme();
    const { c, data } = n.identify(0, 1);
    ok(c);
    const blocks = BigInt(n.param("namespaceBlocks"));
    expect(data.getBigUint64(0, true)).toBe(blocks);
    expect(data.getBigUint64(8, true)).toBe(blocks);
    expect(data.getBigUint64(16, true)).toBe(blocks);
    expect(data.getUint8(25)).toBe(0);
    expect(data.getUint8(26)).toBe(0);
    expect(data.getUint16(128, true)).toBe(0); // metadata size
    expect(data.getUint8(130)).toBe(9);
  });

  test("namespace with 4096-byte blocks: LBADS 12, size from namespaceBlocks", () => {
    const n = readyNvme({ params: { blockSize: 4096, namespaceBlocks: 2048 } });
    const { data } = n.identify(0, 1);
    expect(data.getBigUint64(0, true)).toBe(2048n);
    expect(data.getUint8(130)).toBe(12);
  });

  test("namespace with an NSID other than 1 (0, 2, 0xFFFFFFFF): invalid namespace or format (0x0B)", () => {
    const n = readyNvme();
    for (const nsid of [0, 2, 0xFFFFFFFF]) expect(status(n.identify(0, nsid).c)).toEqual([0, SC.INVALID_NAMESPACE]);
  });

  test("active namespace list (CNS 2): NSIDs above CDW1.NSID, ascending, zero-filled", () => {
    const n = readyNvme();
    const first = n.identify(2, 0).data;
    expect(first.getUint32(0, true)).toBe(1);
    expect(new Uint8Array(first.buffer, first.byteOffset + 4, 4092).every((b) => b === 0)).toBe(true);
    const after = n.identify(2, 1).data;
    expect(new Uint8Array(after.buffer, after.byteOffset, 4096).every((b) => b === 0)).toBe(true);
    expect(status(n.identify(2, 0xFFFFFFFE).c)).toEqual([0, SC.INVALID_NAMESPACE]);
  });

  test("an unsupported CNS is an invalid field", () => {
    const n = readyNvme();
    expect(status(n.identify(0x10, 0).c)).toEqual([0, SC.INVALID_FIELD]);
  });

  test("a buffer with an offset in PRP1 continues in PRP2's page", () => {
    const n = readyNvme();
    const buffer = MEM.ID_BUFFER + 0x800;
    const { data } = n.identify(1, 0, buffer);
    expect(data.getUint16(0, true)).toBe(0x1234);
    expect(data.getUint8(512)).toBe(0x66);
    expect(data.getUint16(2048, true)).toBe(2500); // power state 0, in the second page
  });
});

describe("set / get features (0x09 / 0x0A)", () => {
  test("interrupt coalescing (0x08): threshold 7:0 and time 15:8 read back", () => {
    const n = readyNvme();
    ok(n.exec(0, { opcode: ADMIN.SET_FEATURES, cdw10: 0x08, cdw11: 0x0A07 }));
    expect(n.exec(0, { opcode: ADMIN.GET_FEATURES, cdw10: 0x08 }).dw0).toBe(0x0A07);
  });

  test("interrupt vector configuration (0x09): vector 15:0 and coalescing disable 16 read back; a bad vector is an invalid field", () => {
    const n = readyNvme();
    ok(n.exec(0, { opcode: ADMIN.SET_FEATURES, cdw10: 0x09, cdw11: 0x10003 }));
    expect(n.exec(0, { opcode: ADMIN.GET_FEATURES, cdw10: 0x09, cdw11: 3 }).dw0).toBe(0x10003);
    expect(n.exec(0, { opcode: ADMIN.GET_FEATURES, cdw10: 0x09, cdw11: 2 }).dw0).toBe(0x00002);
    expect(status(n.exec(0, { opcode: ADMIN.SET_FEATURES, cdw10: 0x09, cdw11: 100 }))).toEqual([0, SC.INVALID_FIELD]);
  });

  test("an unsupported feature identifier is an invalid field", () => {
    const n = readyNvme();
    expect(status(n.exec(0, { opcode: ADMIN.SET_FEATURES, cdw10: 0x06, cdw11: 1 }))).toEqual([0, SC.INVALID_FIELD]);
    expect(status(n.exec(0, { opcode: ADMIN.GET_FEATURES, cdw10: 0x80 }))).toEqual([0, SC.INVALID_FIELD]);
  });
});

describe("abort (0x08) and get log page (0x02)", () => {
  test("abort completes successfully with DW0 bit 0 set: the command was not aborted", () => {
    const n = readyNvme();
    const c = n.exec(0, { opcode: ADMIN.ABORT, cdw10: (7 << 16) | 1 });
    ok(c);
    expect(c.dw0 & 1).toBe(1);
  });

  test("get log page: SMART/health (0x02) returns 512 bytes; an unknown page is an invalid log page (type 1, 0x09)", () => {
    const n = readyNvme();
    n.h.core.writePhysical(MEM.ID_BUFFER, new Uint8Array(512).fill(0xEE));
    ok(n.exec(0, { opcode: ADMIN.GET_LOG_PAGE, prp1: MEM.ID_BUFFER, cdw10: (127 << 16) | 0x02 }));
    const log = n.h.core.readPhysical(MEM.ID_BUFFER, 512);
    expect(log[3]).toBe(100);
    expect(log[1] | (log[2] << 8)).toBe(313);
    expect(log[511]).toBe(0);
    expect(status(n.exec(0, { opcode: ADMIN.GET_LOG_PAGE, prp1: MEM.ID_BUFFER, cdw10: (127 << 16) | 0x70 }))).toEqual([1, SC_CMD.INVALID_LOG_PAGE]);
  });
});

describe("invalid opcodes never hang", () => {
  test("admin opcodes the controller does not implement complete with invalid opcode (0x01), do-not-retry", () => {
    const n = readyNvme();
    for (const opcode of [0x03, 0x10, 0x11, 0x18, 0x7F, 0x80, 0xC0, 0xFF]) {
      const c = n.exec(0, { opcode });
      expect(status(c)).toEqual([0, SC.INVALID_OPCODE]);
      expect(c.dnr).toBe(1);
    }
    ok(n.exec(0, { opcode: ADMIN.ABORT }));
  });

  test("I/O opcodes the controller does not implement complete with invalid opcode", () => {
    const n = readyNvme();
    n.createPair(1);
    for (const opcode of [0x04, 0x05, 0x08, 0x09, 0x7F, 0x80, 0xFF]) expect(status(n.exec(1, { opcode, nsid: 1 }))).toEqual([0, SC.INVALID_OPCODE]);
  });

  test("an admin command on an I/O queue is an I/O opcode: create CQ (0x05) on SQ 1 is invalid", () => {
    const n = readyNvme();
    n.createPair(1);
    expect(status(n.exec(1, { opcode: ADMIN.CREATE_CQ, nsid: 1 }))).toEqual([0, SC.INVALID_OPCODE]);
  });

  test("fused operations and SGLs (CDW0 15:8) are an invalid field", () => {
    const n = readyNvme();
    n.createPair(1);
    expect(status(n.exec(0, { opcode: ADMIN.IDENTIFY, flags: 0x01, cdw10: 1, prp1: MEM.ID_BUFFER }))).toEqual([0, SC.INVALID_FIELD]);
    expect(status(n.exec(1, { ...n.rw(IO.READ, 0, 1, { prp1: MEM.DATA, prp2: 0 }), flags: 0x40 }))).toEqual([0, SC.INVALID_FIELD]);
  });
});

describe("doorbell errors", () => {
  test("SQ tail doorbell with a value outside the queue: recorded, ignored, the controller carries on", () => {
    const n = readyNvme({ trace: true });
    n.createPair(1, 16);
    n.deviceErrors();
    n.write32(n.sqDoorbell(1), 16);
    n.h.advance(US);
    const e = n.deviceErrors();
    expect(e.map((x) => x.code)).toEqual([L.NVME_ERROR_DOORBELL_VALUE]);
    expect(e[0].arg).toBe((BigInt(n.sqDoorbell(1)) << 32n) | 16n);
    expect(n.exec(1, { opcode: IO.FLUSH, nsid: 1 }).sc).toBe(SC.SUCCESS);
    expect(n.read32(REG.CSTS) & 2).toBe(0);
  });

  test("CQ head doorbell beyond the entries posted: recorded, ignored", () => {
    const n = readyNvme({ trace: true });
    n.createPair(1, 16);
    n.exec(1, { opcode: IO.FLUSH, nsid: 1 }); // one entry posted and consumed
    n.deviceErrors();
    n.write32(n.cqDoorbell(1), 5);
    n.write32(n.cqDoorbell(1), 16);
    n.h.advance(US);
    expect(n.deviceErrors().map((x) => x.code)).toEqual([L.NVME_ERROR_DOORBELL_VALUE, L.NVME_ERROR_DOORBELL_VALUE]);
    expect(n.exec(1, { opcode: IO.FLUSH, nsid: 1 }).sc).toBe(SC.SUCCESS);
  });

  test("doorbell for a queue that does not exist (never created, beyond the supported queues): recorded, no hang", () => {
    const n = readyNvme({ trace: true });
    n.write32(n.sqDoorbell(3), 1);
    n.write32(n.cqDoorbell(5), 0);
    n.write32(0x1800, 0); // queue 256: beyond what the controller supports
    n.h.advance(US);
    expect(n.deviceErrors().map((x) => x.code)).toEqual([L.NVME_ERROR_DOORBELL_QUEUE, L.NVME_ERROR_DOORBELL_QUEUE, L.NVME_ERROR_DOORBELL_QUEUE]);
    expect(n.exec(0, { opcode: ADMIN.ABORT }).sc).toBe(SC.SUCCESS);
  });

  test("a doorbell error completes an outstanding asynchronous event request (error type, info 0x00 / 0x01, log page 0x01)", () => {
    const n = readyNvme();
    n.createPair(1, 16);
    const aer1 = n.submit(0, { opcode: ADMIN.ASYNC_EVENT });
    const aer2 = n.submit(0, { opcode: ADMIN.ASYNC_EVENT });
    n.settle();
    expect(n.peek(0)).toBeUndefined(); // outstanding: no completion yet
    n.write32(n.sqDoorbell(4), 1);
    n.settle();
    const [first] = n.reap(0);
    expect(first.cid).toBe(aer1);
    expect(first.dw0).toBe((0x01 << 16) | (0x00 << 8) | 0);
    n.write32(n.sqDoorbell(1), 99);
    n.settle();
    const [second] = n.reap(0);
    expect(second.cid).toBe(aer2);
    expect(second.dw0).toBe((0x01 << 16) | (0x01 << 8) | 0);
  });

  test("an event with no request outstanding waits for the next asynchronous event request", () => {
    const n = readyNvme();
    n.write32(n.sqDoorbell(2), 1);
    n.settle();
    const c = n.exec(0, { opcode: ADMIN.ASYNC_EVENT });
    expect(c.dw0).toBe(0x01 << 16);
  });

  test("more asynchronous event requests than AERL + 1 (4): limit exceeded (type 1, 0x05)", () => {
    const n = readyNvme();
    for (let k = 0; k < 4; k++) n.submit(0, { opcode: ADMIN.ASYNC_EVENT });
    n.settle();
    expect(n.peek(0)).toBeUndefined();
    expect(status(n.exec(0, { opcode: ADMIN.ASYNC_EVENT }))).toEqual([1, SC_CMD.AER_LIMIT]);
  });
});

describe("DMA errors", () => {
  test("write with PRP1 to unbacked memory: unsupported request -> data transfer error (0x04), namespace unchanged", () => {
    const n = readyNvme({ trace: true });
    n.createPair(1);
    const data = pattern(512, 9);
    n.h.core.writePhysical(MEM.DATA, data);
    ok(n.exec(1, n.rw(IO.WRITE, 7, 1, { prp1: MEM.DATA, prp2: 0 })));
    n.deviceErrors();
    const c = n.exec(1, n.rw(IO.WRITE, 7, 1, { prp1: UNBACKED, prp2: 0 }));
    expect(status(c)).toEqual([0, SC.DATA_TRANSFER]);
    expect(c.dnr).toBe(0);
    const errors = n.deviceErrors();
    expect(errors.map((e) => e.code)).toEqual([L.NVME_ERROR_DATA]);
    expect(errors[0].arg >> 32n).toBe(2n); // DMA_UNSUPPORTED_REQUEST
    ok(n.exec(1, n.rw(IO.READ, 7, 1, { prp1: MEM.DATA + 4096, prp2: 0 })));
    expect(n.h.core.readPhysical(MEM.DATA + 4096, 512)).toEqual(data);
  });

  test("PRP list at unbacked memory: data transfer error", () => {
    const n = readyNvme();
    n.createPair(1);
    expect(status(n.exec(1, n.rw(IO.WRITE, 0, 24, { prp1: MEM.DATA, prp2: UNBACKED })))).toEqual([0, SC.DATA_TRANSFER]);
    expect(status(n.exec(1, n.rw(IO.READ, 0, 24, { prp1: MEM.DATA, prp2: UNBACKED })))).toEqual([0, SC.DATA_TRANSFER]);
  });

  test("a PRP list entry to unbacked memory (second page): data transfer error", () => {
    const n = readyNvme();
    n.createPair(1);
    const prp = n.prps([MEM.DATA, MEM.DATA + 4096, UNBACKED, MEM.DATA + 8192], 16384);
    expect(status(n.exec(1, n.rw(IO.WRITE, 0, 32, prp)))).toEqual([0, SC.DATA_TRANSFER]);
  });

  test("a submission queue in unbacked memory: the entry cannot be fetched -> data transfer error with CID 0xFFFF", () => {
    const n = readyNvme({ trace: true });
    ok(n.createCq(1, 16));
    ok(n.createSq(1, 16, 1, UNBACKED));
    n.deviceErrors();
    n.write32(n.sqDoorbell(1), 1);
    n.settle();
    const [c] = n.reap(1);
    expect(status(c)).toEqual([0, SC.DATA_TRANSFER]);
    expect(c.cid).toBe(0xFFFF);
    expect(n.deviceErrors().map((e) => e.code)).toEqual([L.NVME_ERROR_FETCH]);
  });

  test("bus mastering off: the entry cannot be fetched and its completion cannot be written -> CSTS.CFS (fatal status)", () => {
    const n = readyNvme({ trace: true });
    n.deviceErrors();
    n.h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY);
    n.submit(0, { opcode: ADMIN.ABORT });
    n.settle();
    expect(n.peek(0)).toBeUndefined();
    expect(n.deviceErrors().map((e) => e.code)).toEqual([L.NVME_ERROR_FETCH, L.NVME_ERROR_COMPLETION]);
    expect(n.read32(REG.CSTS) & 2).toBe(2);
    // A reset recovers the controller.
    n.h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER);
    n.write32(REG.CC, 0);
    n.enable();
    expect(n.exec(0, { opcode: ADMIN.ABORT }).sc).toBe(SC.SUCCESS);
  });

  test("read to unbacked memory: posted writes get no completion, so the command succeeds and the bus records a master abort", () => {
    const n = readyNvme();
    n.createPair(1);
    const before = n.h.counters().masterAborts;
    ok(n.exec(1, n.rw(IO.READ, 0, 1, { prp1: UNBACKED, prp2: 0 })));
    expect(n.h.counters().masterAborts).toBe(before + 1);
  });
});

void Nvme;
