// NVMe DMA through the IOMMU: queues and buffers the tables map work as without it; a
// PRP to an address the IOMMU refuses ends the command with a data transfer error, the
// fault is recorded with the controller as requester, and nothing is read or written.
import { describe, expect, test } from "vitest";
import { IO, MEM, SC, readyNvme, type Nvme } from "../support/nvme-harness.js";
import { IommuTables, IOMMU_R, IOMMU_REGISTERS } from "../support/iommu-tables.js";
import { pattern } from "../support/core-harness.js";

const TABLES = 0x1F00000;
const REFUSED = 0x1800000;

/** The controller at 00:03.0 with an IOMMU mapping the harness's queues and buffers to themselves. */
function behindIommu(): Nvme {
  const n = readyNvme({ edit: (d) => { d.iommu = { iotlbEntries: 64, missLatencyNs: 250 }; } });
  n.createPair(1);
  const t = new IommuTables(n.h, 3 << 3, TABLES);
  t.identity(MEM.ASQ, MEM.ACQ + 0x10000 - MEM.ASQ);
  t.identity(MEM.SQ_BASE, MEM.ID_BUFFER + 0x1000 - MEM.SQ_BASE);
  t.identity(MEM.DATA, REFUSED - MEM.DATA);
  // A read-only page: the controller may read it (a write command's data) but not write it.
  t.map(REFUSED + 0x1000, REFUSED + 0x1000, IOMMU_R);
  t.enable();
  return n;
}

function status(c: { sc: number; sct: number }): [number, number] {
  return [c.sct, c.sc];
}

describe("NVMe behind the IOMMU", () => {
  test("mapped queues and buffers: a write then a read round-trips the data", () => {
    const n = behindIommu();
    const data = pattern(4096, 3);
    n.h.core.writePhysical(MEM.DATA, data);
    expect(status(n.exec(1, n.rw(IO.WRITE, 16, 8, { prp1: MEM.DATA, prp2: 0 })))).toEqual([0, 0]);
    expect(status(n.exec(1, n.rw(IO.READ, 16, 8, { prp1: MEM.DATA + 0x4000, prp2: 0 })))).toEqual([0, 0]);
    expect(n.h.core.readPhysical(MEM.DATA + 0x4000, 4096)).toEqual(data);
  });

  test("a write command whose data page the IOMMU does not map: data transfer error, fault recorded with the controller's requester ID", () => {
    const n = behindIommu();
    const c = n.exec(1, n.rw(IO.WRITE, 0, 8, { prp1: REFUSED, prp2: 0 }));
    expect(status(c)).toEqual([0, SC.DATA_TRANSFER]);
    const hi = n.h.read(IOMMU_REGISTERS + 0x208, 8).value;
    expect(hi >> 63n).toBe(1n);
    expect(hi & 0xFFFFn).toBe(BigInt(3 << 3));
    expect(n.h.read(IOMMU_REGISTERS + 0x200, 8).value).toBe(BigInt(REFUSED));
  });

  test("a read command into a read-only page: the controller's write is refused, the command fails, the page is untouched", () => {
    const n = behindIommu();
    n.h.core.writePhysical(MEM.DATA, pattern(4096, 4));
    n.exec(1, n.rw(IO.WRITE, 0, 8, { prp1: MEM.DATA, prp2: 0 }));
    const page = REFUSED + 0x1000;
    n.h.core.writePhysical(page, new Uint8Array(4096).fill(0x5A));
    const c = n.exec(1, n.rw(IO.READ, 0, 8, { prp1: page, prp2: 0 }));
    expect(status(c)).toEqual([0, SC.DATA_TRANSFER]);
    expect(n.h.core.readPhysical(page, 4096)).toEqual(new Uint8Array(4096).fill(0x5A));
    expect((n.h.read(IOMMU_REGISTERS + 0x208, 8).value >> 32n) & 0xFFn).toBe(5n);
  });
});
