/**
 * Turns the core's trace ring (bus, DMA and interrupt records) into recorder events on
 * the PCI function tracks.
 */
import type { Core } from "../machine/core.js";
import * as L from "../machine/generated/layout.js";
import { Recorder, TRACK_PCI } from "./recorder.js";

/** Thread id, under the PCI process, of events that belong to no function (the local APICs). */
export const APIC_TRACK = 0xFFFF;

const MASTER_ABORT_REASONS: Record<number, string> = {
  [L.MA_UNBACKED]: "no memory or device at the address",
  [L.MA_BUS_MASTER_DISABLED]: "bus mastering disabled",
};

/** What each TR_FAULT record says was injected (its `a`). */
const INJECTED: Record<number, string> = {
  [L.FAULT_MESSAGE_DROPPED]: "fault: interrupt message dropped",
  [L.FAULT_MESSAGE_DUPLICATED]: "fault: interrupt message duplicated",
  [L.FAULT_MESSAGE_DELAYED]: "fault: interrupt message delayed",
  [L.FAULT_INTX_DROPPED]: "fault: INTx assertion dropped",
  [L.FAULT_INTX_DUPLICATED]: "fault: INTx assertion duplicated",
  [L.FAULT_INTX_DELAYED]: "fault: INTx assertion delayed",
  [L.FAULT_DMA_UNSUPPORTED_REQUEST]: "fault: DMA unsupported request",
  [L.FAULT_DMA_COMPLETER_ABORT]: "fault: DMA completer abort",
  [L.FAULT_MEDIA_ERROR]: "fault: media error",
};

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

/** A little-endian u64 at `at` as a number (exact below 2^53: times, addresses, values here). */
function u64(dv: DataView, at: number): number {
  return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;
}

/** Reads every record the core wrote since the last drain into `recorder`. */
export function drainCoreTrace(core: Core, recorder: Recorder): void {
  const { dv, u32 } = core;
  const headAt = (L.CORE_STATE_BASE + L.CORE_TRACE_HEAD) >> 2;
  const tailAt = (L.CORE_STATE_BASE + L.CORE_TRACE_TAIL) >> 2;
  let tail = u32[tailAt];
  const head = u32[headAt];
  while (tail !== head) {
    const p = L.TRACE_RING_BASE + (tail & (L.TRACE_CAPACITY - 1)) * L.TRACE_RECORD_SIZE;
    const t = u64(dv, p);
    const kind = dv.getUint16(p + 8, true);
    const fn = dv.getUint16(p + 10, true);
    const a = dv.getUint32(p + 12, true);
    const b = u64(dv, p + 16);
    const c = u64(dv, p + 24);
    const tid = fn;
    switch (kind) {
      case L.TR_MMIO_READ:
        recorder.instant(TRACK_PCI, tid, `MMIO read BAR${a >>> 24}+${hex(a & 0xFFFFFF)}`, "mmio", t, { value: hex(b), size: Number(c) });
        break;
      case L.TR_MMIO_WRITE:
        recorder.instant(TRACK_PCI, tid, `MMIO write BAR${a >>> 24}+${hex(a & 0xFFFFFF)}`, "mmio", t, { value: hex(b), size: Number(c) });
        break;
      case L.TR_CONFIG_READ:
        recorder.instant(TRACK_PCI, tid, `config read ${hex(a)}`, "config", t, { value: hex(b), size: Number(c) });
        break;
      case L.TR_CONFIG_WRITE:
        recorder.instant(TRACK_PCI, tid, `config write ${hex(a)}`, "config", t, { value: hex(b), size: Number(c) });
        break;
      case L.TR_DMA_READ:
        recorder.slice(TRACK_PCI, tid, `DMA read ${a} B`, "dma", t, Number(c), { busAddress: hex(b), bytes: a, direction: "memory to device" });
        break;
      case L.TR_DMA_WRITE:
        recorder.slice(TRACK_PCI, tid, `DMA write ${a} B`, "dma", t, Number(c), { busAddress: hex(b), bytes: a, direction: "device to memory" });
        break;
      case L.TR_MSI:
        recorder.slice(TRACK_PCI, tid, "MSI", "interrupt", t, Number(c), { address: hex(b), data: hex(a) });
        break;
      case L.TR_INTX:
        recorder.instant(TRACK_PCI, tid, a ? `INT${"ABCD"[Number(b) - 1] ?? "?"}# asserted` : `INT${"ABCD"[Number(b) - 1] ?? "?"}# deasserted`, "interrupt", t);
        break;
      case L.TR_MASTER_ABORT:
        recorder.instant(TRACK_PCI, tid, "master abort", "error", t, { address: hex(b), reason: MASTER_ABORT_REASONS[a] ?? a });
        break;
      case L.TR_DEVICE_ERROR:
        recorder.instant(TRACK_PCI, tid, `device error ${a}`, "error", t, { argument: hex(b) });
        break;
      case L.TR_APIC_PENDING:
        recorder.instant(TRACK_PCI, APIC_TRACK, `vector ${hex(a)} pending at CPU ${b}`, "interrupt", t);
        break;
      case L.TR_FAULT:
        recorder.instant(TRACK_PCI, tid, INJECTED[a] ?? `fault ${a}`, "fault", t, { b: hex(b), c: hex(c) });
        break;
      case L.TR_IOMMU_FAULT:
        recorder.instant(TRACK_PCI, APIC_TRACK, `IOMMU fault ${a} from ${hex(fn)}`, "error", t, { address: hex(b), access: c ? "write" : "read" });
        break;
      case L.TR_WRITE_LANDED:
        recorder.instant(TRACK_PCI, tid, `${a} B landed`, "dma", t, { busAddress: hex(b) });
        break;
    }
    tail = (tail + 1) >>> 0;
  }
  u32[tailAt] = tail;
}
