// Platform parameters the core keeps after power-on: where ECAM and the interrupt window
// sit, the CPUs' clock, TLB geometry, root-complex memory latency and posted-write credits.
//
//   Platform (in the core-state area at PLATFORM_BASE)
//   +0  ecamBase            u64
//   +8  memoryReadLatencyPs u64  root complex: DMA read request to first completion
//   +16 cpuPsNum            u64  CPU clock: ps per cycle = cpuPsNum / cpuPsDen
//   +24 cpuPsDen            u64
//   +32 ecamBusCount        u32
//   +36 postedWriteCredits  u32  posted TLPs a CPU may have in flight per link before it stalls
//   +40 tlbEntries          u32  per CPU, a power of two
//   +44 tlbMissCycles       u32  CPU cycles per page walk
//   +48 tlbMissPs           u64  the same in ps (set at power-on, after the CPU clock)

import { PLATFORM_BASE } from "../memmap";
export { PLATFORM_BASE };

@unmanaged
export class Platform {
  ecamBase: u64;
  memoryReadLatencyPs: u64;
  cpuPsNum: u64;
  cpuPsDen: u64;
  ecamBusCount: u32;
  postedWriteCredits: u32;
  tlbEntries: u32;
  tlbMissCycles: u32;
  tlbMissPs: u64;
}


/** The platform record. */
export const platform = changetype<Platform>(PLATFORM_BASE);

/** Base of the local-APIC message window (x86 convention). */
export const LAPIC_WINDOW_BASE: u64 = 0xFEE00000;
/** Size of the local-APIC message window. */
export const LAPIC_WINDOW_SIZE: u64 = 0x100000;
/** Physical address where firmware places its tables (the BIOS area searched for the RSDP). */
export const FIRMWARE_TABLES_BASE: u64 = 0xE0000;
/** Bytes of the firmware table area (whole pages, at most SCRATCH_SIZE: the firmware stage builds it in the scratch buffer). */
export const FIRMWARE_TABLES_SIZE: u32 = 0x20000;
/** Latency of a CPU access to a register of the root complex itself (the IOAPIC), ps. */
export const ROOT_COMPLEX_REGISTER_LATENCY_PS: u64 = 100000;
/** Latency of a configuration or memory request the root complex answers itself (unsupported request), ps. */
export const ROOT_COMPLEX_UR_LATENCY_PS: u64 = 100000;
