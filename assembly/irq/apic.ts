// Local APICs: one per CPU. An MSI is a posted memory write into the window at
// 0xFEE0_0000 | destination APIC ID << 12 with the vector in data bits 7:0 (delivery
// mode in bits 10:8, fixed = 0). A received vector is held pending (IRR) until the CPU
// accepts it; it is deliverable when its priority class (vector >> 4) is above the CPU's
// current IRQL, and then the run loop returns to the kernel.

import { core, count, C_INTERRUPTS_ACCEPTED, STOP_INTERRUPT } from "../sim/core";
import { cpuBase, cpuState, CPU_ARRIVAL_OFFSET, CPU_IRR_OFFSET } from "../sim/cpu";
import { trace, TR_APIC_PENDING, TR_DEVICE_ERROR } from "../sim/trace";

/** Lowest legal vector: 0..15 are reserved for exceptions. */
export const FIRST_LEGAL_VECTOR: u32 = 16;
/** APIC error recorded (TR_DEVICE_ERROR, function 0xFFFF): illegal vector received. */
export const APIC_ERROR_ILLEGAL_VECTOR: u32 = 0x40;
/** APIC error recorded: no CPU has the destination APIC ID. */
export const APIC_ERROR_NO_DESTINATION: u32 = 0x41;
/** APIC error recorded: a delivery mode other than fixed. */
export const APIC_ERROR_DELIVERY_MODE: u32 = 0x42;

function recomputeHighest(cpu: u32): void {
  const irr = cpuBase(cpu) + CPU_IRR_OFFSET;
  let highest: u32 = 0;
  for (let w: i32 = 7; w >= 0; w--) {
    const bits = load<u32>(irr + (<u32>w << 2));
    if (bits != 0) { highest = (<u32>w << 5) + 31 - clz<u32>(bits); break; }
  }
  cpuState(cpu).highestIrr = highest;
}

/** Clears every CPU's pending vectors. */
export function apicReset(): void {
  for (let cpu: u32 = 0; cpu < core.cpuCount; cpu++) {
    memory.fill(cpuBase(cpu) + CPU_IRR_OFFSET, 0, 32);
    cpuState(cpu).highestIrr = 0;
  }
}

/** Receives an interrupt message (address, data) at core time `time` (ps). */
export function apicReceive(address: u64, data: u32, time: u64): void {
  const apicId = <u32>(address >> 12) & 0xFF;
  const vector = data & 0xFF;
  const mode = (data >> 8) & 7;
  if (mode != 0) { trace(time, TR_DEVICE_ERROR, 0xFFFF, APIC_ERROR_DELIVERY_MODE, address, data); return; }
  if (vector < FIRST_LEGAL_VECTOR) { trace(time, TR_DEVICE_ERROR, 0xFFFF, APIC_ERROR_ILLEGAL_VECTOR, address, data); return; }
  let cpu: u32 = 0;
  while (cpu < core.cpuCount && cpuState(cpu).apicId != apicId) cpu++;
  if (cpu == core.cpuCount) { trace(time, TR_DEVICE_ERROR, 0xFFFF, APIC_ERROR_NO_DESTINATION, address, data); return; }

  const base = cpuBase(cpu);
  const word = base + CPU_IRR_OFFSET + ((vector >> 5) << 2);
  const bit: u32 = 1 << (vector & 31);
  const bits = load<u32>(word);
  // A vector already pending absorbs the new message, as the IRR is one bit per vector.
  if ((bits & bit) == 0) {
    store<u32>(word, bits | bit);
    store<f64>(base + CPU_ARRIVAL_OFFSET + (vector << 3), <f64>time);
  }
  const s = cpuState(cpu);
  if (vector > s.highestIrr) s.highestIrr = vector;
  trace(time, TR_APIC_PENDING, 0xFFFF, vector, cpu, 0);
  if ((vector >> 4) > s.irql) core.stopFlags |= STOP_INTERRUPT;
}

/** The CPU accepts its highest pending vector: returns it (0 if none) and clears it from the IRR. */
export function apicAccept(cpu: u32): u32 {
  const s = cpuState(cpu);
  const vector = s.highestIrr;
  if (vector == 0) return 0;
  const word = cpuBase(cpu) + CPU_IRR_OFFSET + ((vector >> 5) << 2);
  store<u32>(word, load<u32>(word) & ~(<u32>1 << (vector & 31)));
  recomputeHighest(cpu);
  count(C_INTERRUPTS_ACCEPTED);
  return vector;
}
