/**
 * The HAL's state for one machine: the platform it discovered and its mapping of the
 * ECAM window. Registered with the kernel as the "hal" service.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import type { PlatformInfo } from "./acpi.js";
import { HalIommu } from "./iommu.js";

/** HAL state. */
export class Hal {
  /** Virtual address of the ECAM window once mapped. */
  ecamVa = 0;
  /** Next interrupt vector to hand out, and the processor for the next message. */
  nextVector = 0x51;
  nextProcessor = 0;

  /** Vectors given to I/O APIC inputs (a shared line has one vector): GSI to vector and processor. */
  private readonly lineVectors = new Map<number, { vector: number; processor: number }>();
  /** Virtual address of the I/O APIC's registers once mapped. */
  ioApicVa = 0;
  /** DMA remapping, when the firmware describes an IOMMU (set up by startDmaRemapping). */
  iommu: HalIommu | null = null;

  /** Bus drivers listening for hot-plug presence changes, by bus number (PCIe presence detect). */
  private readonly presenceListeners = new Map<number, () => void>();

  constructor(readonly k: Kernel, readonly platform: PlatformInfo) {}

  /** Registers the routine a bus's driver runs when a device on that bus appears or disappears (null: unregister). */
  setPresenceListener(bus: number, listener: (() => void) | null): void {
    if (listener) this.presenceListeners.set(bus, listener);
    else this.presenceListeners.delete(bus);
  }

  /** A device on `bus` appeared or disappeared (the slot's presence-detect changed); tells the bus's driver. */
  presenceChanged(bus: number): void {
    this.presenceListeners.get(bus)?.();
  }

  /** The vector and processor of I/O APIC input `gsi` (allocated once, shared by every device on the line). */
  lineVector(gsi: number): { vector: number; processor: number } {
    let v = this.lineVectors.get(gsi);
    if (!v) {
      v = this.allocateVector();
      this.lineVectors.set(gsi, v);
    }
    return v;
  }

  /** The I/O APIC input a vector was given to, or -1. */
  gsiOfVector(vector: number): number {
    for (const [gsi, v] of this.lineVectors) if (v.vector === vector) return gsi;
    return -1;
  }

  /**
   * Turns on DMA remapping if the platform has an IOMMU that covers every PCI device (the
   * only kind this HAL drives): each device passes through until it gets a DMA adapter.
   */
  startDmaRemapping(): void {
    const unit = this.platform.iommus.find((u) => u.includeAll);
    if (unit && !this.iommu) this.iommu = new HalIommu(this.k, unit.address, this.allocateVector());
  }

  /** Hands out an interrupt vector (IRQL = vector >> 4) and a target processor. */
  allocateVector(): { vector: number; processor: number } {
    const vector = this.nextVector;
    this.nextVector = this.nextVector >= 0xBF ? 0x51 : this.nextVector + 1;
    const processor = this.nextProcessor;
    this.nextProcessor = (this.nextProcessor + 1) % this.k.processors.length;
    return { vector, processor };
  }
}

/** The executing machine's HAL. */
export function HAL(k: Kernel = KE()): Hal {
  const h = k.services.get("hal");
  if (!h) throw new Error("the HAL is not initialised");
  return h as Hal;
}
