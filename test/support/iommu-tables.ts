/**
 * Builds IOMMU (VT-d style) translation structures in guest RAM for tests and benchmarks:
 * a root table, a context entry for one requester, and 4-level second-level tables, then
 * points the IOMMU at them and turns translation on.
 */
import type { CoreHarness } from "./core-harness.js";

/** Physical base of the IOMMU's registers. */
export const IOMMU_REGISTERS = 0xFED90000;
/** Second-level entry permission: read. */
export const IOMMU_R = 1n;
/** Second-level entry permission: write. */
export const IOMMU_W = 2n;

/** Translation tables for one requester, allocated page by page from `base`. */
export class IommuTables {
  private next: number;
  readonly root: number;
  readonly slpt: number;

  /** `source` is the requester ID (bus << 8 | device << 3 | function); `present` false leaves its context entry empty. */
  constructor(readonly h: CoreHarness, readonly source: number, base: number, present = true) {
    this.next = base;
    this.root = this.page();
    const context = this.page();
    this.slpt = this.page();
    h.core.writePhysical64(this.root + ((source >> 8) << 4), (context | 1) >>> 0, 0);
    if (present) {
      // Context entry: present, translation type 0, second-level pointer; hi: address width 2 (48-bit), domain 1.
      h.core.writePhysical64(context + ((source & 0xFF) << 4), (this.slpt | 1) >>> 0, 0);
      h.core.writePhysical64(context + ((source & 0xFF) << 4) + 8, 2 | (1 << 8), 0);
    }
  }

  private page(): number {
    const p = this.next;
    this.next += 0x1000;
    this.h.x.physFill(p, 0x1000, 0);
    return p;
  }

  /** Maps the IOVA page at `iova` to physical `pa` with permissions (IOMMU_R | IOMMU_W). */
  map(iova: number, pa: number, perms: bigint): void {
    let table = this.slpt;
    for (let level = 3; level > 0; level--) {
      const at = table + (Math.floor(iova / 2 ** (12 + 9 * level)) % 512) * 8;
      const [lo] = this.h.core.readPhysical64(at);
      if ((lo & 3) === 0) {
        const t = this.page();
        this.h.core.writePhysical64(at, (t | 3) >>> 0, 0);
        table = t;
      } else {
        table = lo & ~0xFFF;
      }
    }
    this.h.core.writePhysical64(table + (Math.floor(iova / 4096) % 512) * 8, (pa | Number(perms)) >>> 0, Math.floor(pa / 2 ** 32));
  }

  /** Maps [base, base + length) to itself. */
  identity(base: number, length: number, perms: bigint = IOMMU_R | IOMMU_W): void {
    for (let p = base; p < base + length; p += 0x1000) this.map(p, p, perms);
  }

  /** Sets the root table pointer and turns translation on (the harness maps the registers). */
  enable(): void {
    this.h.identityMap(IOMMU_REGISTERS, 0x1000);
    this.h.write(IOMMU_REGISTERS + 0x20, 4, this.root);
    this.h.write(IOMMU_REGISTERS + 0x24, 4, 0);
    this.h.write(IOMMU_REGISTERS + 0x18, 4, 0x40000000);
    this.h.write(IOMMU_REGISTERS + 0x18, 4, 0x80000000);
  }
}
