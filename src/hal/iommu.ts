/**
 * The HAL's DMA remapping, on a machine whose firmware describes an IOMMU (DMAR): at boot
 * it builds a root table whose context entries pass every requester's DMA through
 * untranslated and turns translation on. When a driver gets a DMA adapter for a device,
 * that device gets a domain of its own (4-level second-level tables, 48-bit): from then
 * on its DMA reaches only what the HAL mapped for it — common buffers and the pages of
 * transfers in flight, at logical addresses (IOVAs) handed out from the bottom of the
 * device's reach. Tables live in pages taken from the PFN database and are written
 * physically; unmapping invalidates the IOTLB through the registers.
 *
 * Faults: the HAL unmasks the IOMMU's fault event and takes it as an interrupt. Its ISR
 * reads the fault recording register, keeps the fault (requester, address, read or write,
 * reason; `faults`, shown by !verifier and in the trace) and clears it. Under Driver
 * Verifier a fault is bug check 0xE6 DRIVER_VERIFIER_DMA_VIOLATION with P1 0x26 (IOMMU
 * detected DMA violation), P2 the faulting device's PDO, P3 the faulting address, P4 the
 * fault type (the IOMMU's fault reason). Without it the fault is logged, and the device's
 * error completion is what its driver sees.
 */
import type { Kernel } from "../ke/kernel.js";
import { MM } from "../mm/manager.js";
import { MmMapIoSpace, MEMORY_CACHING_TYPE } from "../mm/physical.js";
import { PAGE_SIZE } from "../mm/pfn.js";
import { RangeAllocator } from "../mm/va-allocator.js";
import { READ_REGISTER_ULONG, WRITE_REGISTER_ULONG } from "./registers.js";
import { KINTERRUPT, KINTERRUPT_MODE, connectInterruptObject } from "../ke/interrupt.js";
import { DRIVER_VERIFIER_DMA_VIOLATION } from "../ke/bugcheck.js";
import { TRACK_CPU } from "../trace/recorder.js";

// Register offsets and bits (VT-d).
const GCMD = 0x18;
const RTADDR = 0x20;
const IOTLB = 0x108;
const FSTS = 0x34;
const FECTL = 0x38;
const FEDATA = 0x3C;
const FEADDR = 0x40;
const FRCD = 0x200;
/** FSTS: primary fault overflow (write 1 to clear). */
const FSTS_PFO = 0x1;
/** FRCD high dword of the top half: F (bit 127) as bit 31; write 1 to clear. */
const FRCD_F = 0x80000000;
/** FRCD bit 126 (T) as bit 30 of the top dword: 1 for a read request. */
const FRCD_READ = 0x40000000;
/** Interrupt message address of local APIC `id` (fixed delivery). */
const MSI_ADDRESS_BASE = 0xFEE00000;
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

/** P1 of 0xE6: the IOMMU detected a DMA violation. */
export const DMA_IOMMU_DETECTED_VIOLATION = 0x26;
/** Faults the HAL keeps (the oldest go first). */
const FAULTS_KEPT = 64;

/** A fault the IOMMU recorded, as the HAL took it from the fault recording register. */
export interface IommuFault {
  /** When the HAL took it, ps. */
  timePs: number;
  /** Requester ID: bus << 8 | device << 3 | function. */
  source: number;
  /** The faulting DMA address (page). */
  address: number;
  /** A write (else a read). */
  write: boolean;
  /** The IOMMU's fault reason (1 root entry not present .. 7 table access; 5 write, 6 read denied). */
  reason: number;
  /** Address of the faulting device's PDO, 0 if no DMA adapter named it. */
  device: number;
}

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
  constructor(readonly source: number, readonly domainId: number, readonly rootTable: number, readonly device: number) {}
}

/** The HAL's IOMMU driver. */
export class HalIommu {
  private readonly registers: number;
  private readonly root: number;
  private readonly contextTables = new Map<number, number>();
  private readonly domains = new Map<number, IommuDomain>();
  /** Faults taken from the IOMMU, oldest first (at most FAULTS_KEPT). */
  readonly faults: IommuFault[] = [];
  /** Faults taken since boot. */
  faultCount = 0;
  /** The fault event's interrupt object. */
  readonly faultInterrupt = new KINTERRUPT();

  constructor(readonly k: Kernel, address: number, vector: { vector: number; processor: number }) {
    this.registers = MmMapIoSpace(address, PAGE_SIZE, MEMORY_CACHING_TYPE.MmNonCached);
    this.root = this.tablePage();
    for (let i = 0; i < k.x.functionCount(); i++) this.contextTable(k.x.functionBdf(i) >> 8);
    WRITE_REGISTER_ULONG(this.registers + RTADDR, this.root % 2 ** 32);
    WRITE_REGISTER_ULONG(this.registers + RTADDR + 4, Math.floor(this.root / 2 ** 32));
    WRITE_REGISTER_ULONG(this.registers + GCMD, SRTP);
    WRITE_REGISTER_ULONG(this.registers + GCMD, TE);
    // The fault event: a message to the chosen processor's local APIC, then unmasked.
    const i = this.faultInterrupt;
    i.ServiceRoutine = iommuFaultService;
    i.ServiceContext = this;
    i.Vector = vector.vector;
    i.Irql = vector.vector >> 4;
    i.SynchronizeIrql = i.Irql;
    i.Processors = [vector.processor];
    i.Mode = KINTERRUPT_MODE.Latched;
    i.owner = "hal";
    connectInterruptObject(k, i);
    WRITE_REGISTER_ULONG(this.registers + FEDATA, vector.vector);
    WRITE_REGISTER_ULONG(this.registers + FEADDR, MSI_ADDRESS_BASE | (vector.processor << 12));
    WRITE_REGISTER_ULONG(this.registers + FECTL, 0);
  }

  /**
   * Takes the fault in the fault recording register, if any: keeps it, notes it in the
   * trace, clears the record (and an overflow). Returns the fault, or null.
   */
  takeFault(): IommuFault | null {
    const top = READ_REGISTER_ULONG(this.registers + FRCD + 12);
    if ((top & FRCD_F) === 0) return null;
    const low = READ_REGISTER_ULONG(this.registers + FRCD) + READ_REGISTER_ULONG(this.registers + FRCD + 4) * 2 ** 32;
    const source = READ_REGISTER_ULONG(this.registers + FRCD + 8) & 0xFFFF;
    const fault: IommuFault = {
      timePs: this.k.cpu.time, source, address: low, write: (top & FRCD_READ) === 0, reason: top & 0xFF,
      device: this.domains.get(source)?.device ?? 0,
    };
    WRITE_REGISTER_ULONG(this.registers + FRCD + 12, FRCD_F);
    if (READ_REGISTER_ULONG(this.registers + FSTS) & FSTS_PFO) WRITE_REGISTER_ULONG(this.registers + FSTS, FSTS_PFO);
    this.faultCount++;
    if (this.faults.length === FAULTS_KEPT) this.faults.shift();
    this.faults.push(fault);
    const what = `IOMMU fault: ${fault.write ? "write" : "read"} of 0x${fault.address.toString(16)} by ${requesterName(source)}, reason ${fault.reason}`;
    this.k.recorder.note(this.k.cpu.time, what, "hal", "HalpIommuFaultService", this.k.cpu.Number);
    this.k.recorder.instant(TRACK_CPU, this.k.cpu.Number, what, "fault", this.k.cpu.time);
    return fault;
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

  /** The domain of requester `source` (bus << 8 | device << 3 | function) and its PDO (`device`, address), created on first use. */
  domain(source: number, device = 0): IommuDomain {
    let d = this.domains.get(source);
    if (!d) {
      d = new IommuDomain(source, this.domains.size + 1, this.tablePage(), device);
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

/** "bb:dd.f" of a requester ID. */
function requesterName(source: number): string {
  const hex = (v: number) => v.toString(16).padStart(2, "0");
  return `${hex(source >> 8)}:${hex((source >> 3) & 0x1F)}.${source & 7}`;
}

/**
 * The IOMMU's fault event ISR: takes the recorded fault; under Driver Verifier it is bug
 * check 0xE6 with P1 0x26, P2 the device's PDO, P3 the faulting address, P4 the fault reason.
 */
function iommuFaultService(_Interrupt: KINTERRUPT, ServiceContext: unknown): boolean {
  const iommu = ServiceContext as HalIommu;
  const k = iommu.k;
  let claimed = false;
  for (let fault = iommu.takeFault(); fault; fault = iommu.takeFault()) {
    claimed = true;
    if (k.verifier) k.bugCheck(DRIVER_VERIFIER_DMA_VIOLATION, DMA_IOMMU_DETECTED_VIOLATION, fault.device, fault.address, fault.reason);
  }
  return claimed;
}
