/**
 * The HAL's DMA remapping, on a machine whose firmware describes an IOMMU (DMAR): at boot
 * it builds a root table whose context entries pass every requester's DMA through
 * untranslated and turns translation on. When a driver gets a DMA adapter for a device,
 * that device gets a domain of its own (4-level second-level tables, 48-bit): from then
 * on its DMA reaches only what the HAL mapped for it — common buffers and the pages of
 * transfers in flight, at logical addresses (IOVAs) handed out from the bottom of the
 * device's reach. Tables live in pages taken from the PFN database and are written
 * physically; unmapping invalidates the IOTLB through the registers.
 */
import type { Kernel } from "../ke/kernel.js";
import { MM } from "../mm/manager.js";
import { MmMapIoSpace, MEMORY_CACHING_TYPE } from "../mm/physical.js";
import { PAGE_SIZE } from "../mm/pfn.js";
import { RangeAllocator } from "../mm/va-allocator.js";
import { WRITE_REGISTER_ULONG } from "./registers.js";

// Register offsets and bits (VT-d).
const GCMD = 0x18;
const RTADDR = 0x20;
const IOTLB = 0x108;
const TE = 0x80000000;
const SRTP = 0x40000000;
/** IOTLB register bit 63 (IVT), as the high dword's bit 31. */
const IVT_HIGH = 0x80000000;

/** Context entry: present. */
const CONTEXT_PRESENT = 1;
/** Context entry translation type 2: pass-through. */
const CONTEXT_PASS_THROUGH = 2 << 2;
/** Context entry high dword: address width 2 (48-bit, 4-level tables). */
const CONTEXT_AW_48 = 2;
/** Second-level entry permissions. */
export const IOMMU_READ = 1;
export const IOMMU_WRITE = 2;

/** Bits of logical address a domain covers. */
const DOMAIN_ADDRESS_BITS = 48;

/** One device's translation domain. */
export class IommuDomain {
  /** IOVA ranges, first fit from the bottom (page 0 is never handed out). */
  readonly iova = new RangeAllocator(PAGE_SIZE, 2 ** DOMAIN_ADDRESS_BITS, PAGE_SIZE);
  /** Last-level tables by 2 MiB region of IOVA space (tables are never freed while the domain lives). */
  readonly leafTables = new Map<number, number>();
  /** The 2 MiB region looked up last and its last-level table (transfers land in few regions). */
  lastRegion = -1;
  lastTable = 0;
  constructor(readonly source: number, readonly domainId: number, readonly rootTable: number) {}
}

/** The HAL's IOMMU driver. */
export class HalIommu {
  private readonly registers: number;
  private readonly root: number;
  private readonly contextTables = new Map<number, number>();
  private readonly domains = new Map<number, IommuDomain>();

  constructor(private readonly k: Kernel, address: number) {
    this.registers = MmMapIoSpace(address, PAGE_SIZE, MEMORY_CACHING_TYPE.MmNonCached);
    this.root = this.tablePage();
    for (let i = 0; i < k.x.functionCount(); i++) this.contextTable(k.x.functionBdf(i) >> 8);
    WRITE_REGISTER_ULONG(this.registers + RTADDR, this.root % 2 ** 32);
    WRITE_REGISTER_ULONG(this.registers + RTADDR + 4, Math.floor(this.root / 2 ** 32));
    WRITE_REGISTER_ULONG(this.registers + GCMD, SRTP);
    WRITE_REGISTER_ULONG(this.registers + GCMD, TE);
  }

  /** A zeroed page for translation structures, physical address. */
  private tablePage(): number {
    const pfn = MM(this.k).pfn.allocatePage();
    if (pfn < 0) throw new Error("no memory for IOMMU tables");
    const pa = pfn * PAGE_SIZE;
    this.k.x.physFill(pa, PAGE_SIZE, 0);
    return pa;
  }

  private write64(pa: number, value: number): void {
    this.k.chargePs(this.k.cost.MemoryAccess);
    this.k.core.writePhysical64(pa, value % 2 ** 32, Math.floor(value / 2 ** 32));
  }

  private read64(pa: number): number {
    const [lo, hi] = this.k.core.readPhysical64(pa);
    return hi * 2 ** 32 + lo;
  }

  /** The context table of `bus`, created with every entry pass-through. */
  private contextTable(bus: number): number {
    let table = this.contextTables.get(bus);
    if (table === undefined) {
      table = this.tablePage();
      for (let devfn = 0; devfn < 256; devfn++) {
        this.k.core.writePhysical64(table + devfn * 16, CONTEXT_PRESENT | CONTEXT_PASS_THROUGH, 0);
        this.k.core.writePhysical64(table + devfn * 16 + 8, CONTEXT_AW_48, 0);
      }
      this.write64(this.root + bus * 16, table + CONTEXT_PRESENT);
      this.contextTables.set(bus, table);
    }
    return table;
  }

  /** The domain of requester `source` (bus << 8 | device << 3 | function), created on first use. */
  domain(source: number): IommuDomain {
    let d = this.domains.get(source);
    if (!d) {
      d = new IommuDomain(source, this.domains.size + 1, this.tablePage());
      const entry = this.contextTable(source >> 8) + (source & 0xFF) * 16;
      this.write64(entry + 8, CONTEXT_AW_48 + (d.domainId << 8));
      this.write64(entry, d.rootTable + CONTEXT_PRESENT);
      this.invalidate();
      this.domains.set(source, d);
    }
    return d;
  }

  /** The leaf entry's physical address for `iova`, creating tables on the way when `create`. */
  private leaf(d: IommuDomain, iova: number, create: boolean): number {
    const region = Math.floor(iova / 2 ** 21);
    if (region === d.lastRegion) return d.lastTable + (Math.floor(iova / PAGE_SIZE) % 512) * 8;
    const cached = d.leafTables.get(region);
    if (cached !== undefined) {
      d.lastRegion = region;
      d.lastTable = cached;
      return cached + (Math.floor(iova / PAGE_SIZE) % 512) * 8;
    }
    let table = d.rootTable;
    for (let level = 3; level > 0; level--) {
      const at = table + (Math.floor(iova / 2 ** (12 + 9 * level)) % 512) * 8;
      const e = this.read64(at);
      if (e % 4 === 0) {
        if (!create) return -1;
        const next = this.tablePage();
        this.write64(at, next + IOMMU_READ + IOMMU_WRITE);
        table = next;
      } else {
        table = e - (e % PAGE_SIZE);
      }
    }
    d.leafTables.set(region, table);
    return table + (Math.floor(iova / PAGE_SIZE) % 512) * 8;
  }

  /** Maps the page at `iova` to physical page `pa` with `permissions` (IOMMU_READ | IOMMU_WRITE). */
  map(d: IommuDomain, iova: number, pa: number, permissions: number): void {
    this.write64(this.leaf(d, iova, true), pa - (pa % PAGE_SIZE) + permissions);
  }

  /** Unmaps `pages` pages from `iova` and invalidates the IOTLB. */
  unmap(d: IommuDomain, iova: number, pages: number): void {
    for (let i = 0; i < pages; i++) this.clear(d, iova + i * PAGE_SIZE);
    this.invalidate();
  }

  /** Clears the page at `iova` without invalidating the IOTLB (the caller invalidates once for a batch). */
  clear(d: IommuDomain, iova: number): void {
    const at = this.leaf(d, iova, false);
    if (at >= 0) this.write64(at, 0);
  }

  /** Global IOTLB invalidation. */
  invalidate(): void {
    WRITE_REGISTER_ULONG(this.registers + IOTLB + 4, IVT_HIGH);
  }
}
