/**
 * Request timeouts. Each SRB carries TimeOutValue in seconds; the port checks its
 * outstanding requests once a second (a one-shot kernel timer, armed only while requests
 * with a timeout are outstanding, so an idle adapter schedules nothing). A request past
 * its deadline makes the port reset the bus: HwResetBus with the StartIo lock held, after
 * which the miniport owns what it had outstanding (it completes the requests with
 * SRB_STATUS_BUS_RESET, or, as an NVMe miniport does, resubmits them after a controller
 * reset). Every outstanding request's timeout then starts again. A request that times out
 * MAX_TIMEOUT_RESETS times is completed by the port with SRB_STATUS_TIMEOUT and forgotten:
 * a later completion of it by the miniport is ignored.
 */
import { KE } from "../../ke/kernel.js";
import { KeSetTimer } from "../../ke/timer.js";
import type { KDPC } from "../../ke/dpc.js";
import { KeAcquireSpinLockAtDpcLevel, KeReleaseSpinLockFromDpcLevel } from "../../ke/spinlock.js";
import { SRB_STATUS_TIMEOUT } from "../storage/srb.js";
import { AdapterState, type RAID_ADAPTER_EXTENSION } from "./adapter.js";
import { callMiniport, raidCompleteByPort, RequestState, type RAID_REQUEST } from "./request.js";

/** Timeouts of one request after which the port completes it itself. */
export const MAX_TIMEOUT_RESETS = 4;
/** The timeout check interval: one second, in 100 ns units (negative: relative). */
const ONE_SECOND_RELATIVE = -10_000_000;

/** Arms the adapter's one-second timeout check if it is not armed. */
export function armTimeoutTimer(a: RAID_ADAPTER_EXTENSION): void {
  if (a.TimeoutTimerArmed) return;
  a.TimeoutTimerArmed = true;
  KeSetTimer(a.TimeoutTimer, ONE_SECOND_RELATIVE, a.TimeoutDpc);
}

/** The earliest-deadline request past its deadline on the adapter, or null. */
function expired(a: RAID_ADAPTER_EXTENSION, nowPs: number): RAID_REQUEST | null {
  let found: RAID_REQUEST | null = null;
  for (const u of a.Units.values()) {
    for (let r = u.OutstandingHead; r; r = r.Next) {
      if (r.State === RequestState.Started && r.DeadlinePs <= nowPs && (!found || r.DeadlinePs < found.DeadlinePs)) found = r;
    }
  }
  return found;
}

/** Whether any outstanding request has a deadline. */
function watching(a: RAID_ADAPTER_EXTENSION): boolean {
  for (const u of a.Units.values()) for (let r = u.OutstandingHead; r; r = r.Next) if (r.DeadlinePs !== Infinity) return true;
  return false;
}

/** The timeout DPC: resets the bus for an expired request, then re-arms while requests are watched. */
export function RaidpAdapterTimeoutDpcRoutine(_Dpc: KDPC, DeferredContext: unknown, _a1: unknown, _a2: unknown): void {
  const a = DeferredContext as RAID_ADAPTER_EXTENSION;
  const k = KE();
  a.TimeoutTimerArmed = false;
  if (a.State !== AdapterState.Running) return;
  const r = expired(a, k.cpu.time);
  if (r) {
    const unit = r.Unit!;
    a.Timeouts++;
    r.Timeouts++;
    k.recorder.note(k.cpu.time, `storport: request timed out on ${unit.PathId}:${unit.TargetId}:${unit.Lun}`, a.Service, "RaidUnitTimeout", k.cpu.Number);
    if (r.Timeouts >= MAX_TIMEOUT_RESETS) {
      raidCompleteByPort(r, SRB_STATUS_TIMEOUT);
    } else if (a.Hw.HwResetBus) {
      a.Resets++;
      KeAcquireSpinLockAtDpcLevel(a.StartIoLock);
      try {
        callMiniport(k, { driver: a.Service, routine: a.Hw.HwResetBus.name || "HwResetBus" }, a.Hw.HwResetBus, a.HwDeviceExtension, unit.PathId);
      } finally {
        KeReleaseSpinLockFromDpcLevel(a.StartIoLock);
      }
      // Whatever is still outstanding gets its full timeout again.
      restartTimeouts(a, k.cpu.time);
    }
  }
  if (watching(a)) armTimeoutTimer(a);
}

/** Gives every outstanding request its full timeout again, counted from `nowPs`. */
export function restartTimeouts(a: RAID_ADAPTER_EXTENSION, nowPs: number): void {
  for (const u of a.Units.values()) {
    for (let r = u.OutstandingHead; r; r = r.Next) {
      if (r.DeadlinePs !== Infinity && r.Srb) r.DeadlinePs = nowPs + r.Srb.TimeOutValue * 1e12;
    }
  }
}
