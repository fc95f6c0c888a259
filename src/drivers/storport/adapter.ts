/**
 * The port's objects: the adapter (RAID_ADAPTER_EXTENSION, the FDO on the controller's PCI
 * PDO) and the per-machine registry that finds an adapter from the miniport's device
 * extension, as every StorPort* service must. The adapter holds what the miniport gave
 * (HW_INITIALIZATION_DATA, PORT_CONFIGURATION_INFORMATION, its extension), what the port
 * built for it (mapped registers, the DMA adapter, interrupts, DPCs, timers, the request
 * pool) and the state that gates new requests (paused, busy, reset hold, power, removal).
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import type { DMA_ADAPTER } from "../../hal/dma.js";
import type { IO_INTERRUPT_MESSAGE_INFO } from "../../io/interrupt.js";
import type { KINTERRUPT } from "../../ke/interrupt.js";
import { KDPC } from "../../ke/dpc.js";
import { KSPIN_LOCK } from "../../ke/spinlock.js";
import { KTIMER } from "../../ke/timer.js";
import { KE, type Kernel } from "../../ke/kernel.js";
import type { PVOID } from "../../mm/memory.js";
import {
  HW_INITIALIZATION_DATA, PERF_CONFIGURATION_DATA, PORT_CONFIGURATION_INFORMATION, SCSI_ADAPTER_CONTROL_TYPE,
  SCSI_SUPPORTED_CONTROL_TYPE_LIST, SCSI_UNIT_CONTROL_TYPE, type HW_PASSIVE_INITIALIZE_ROUTINE, type HW_TIMER, type PVOID_EXTENSION,
} from "./storport.js";
import type { RAID_UNIT_EXTENSION } from "./unit.js";
import type { MiniportCalls, RAID_REQUEST } from "./request.js";
import { BoundedLog } from "../../trace/bounded-log.js";

/** Errors an adapter's log keeps (the latest; older ones are counted as dropped). */
export const STORPORT_ERROR_LOG_ENTRIES = 256;

/** One StorPortLogError call: the unit, the miniport's code and id, and when (ps of simulated time). */
export interface StorPortErrorLogEntry {
  PathId: number;
  TargetId: number;
  Lun: number;
  ErrorCode: number;
  UniqueId: number;
  timePs: number;
}

/** The miniport driver's registration (StorPortInitialize), kept in its driver extension. */
export class RAID_DRIVER_EXTENSION {
  constructor(readonly serviceName: string, readonly HwInitializationData: HW_INITIALIZATION_DATA) {}
  /** Adapters of this miniport, in the order they were added. */
  readonly adapters: RAID_ADAPTER_EXTENSION[] = [];
}

/** Where an adapter is in its life. */
export enum AdapterState {
  /** AddDevice done, not started. */
  Added,
  /** HwFindAdapter / HwInitialize running. */
  Starting,
  /** Taking requests. */
  Running,
  /** Stopped by IRP_MN_STOP_DEVICE, or out of D0. */
  Stopped,
  /** Surprise-removed or removed: every request fails. */
  Removed,
}

/** A region of memory the port gave the miniport that devices reach: uncached extension, contiguous memory, SRB extensions. */
export interface DmaRegion {
  va: PVOID;
  logical: number;
  length: number;
}

/** An adapter timer (StorPortInitializeTimer). */
export class RAID_TIMER {
  readonly Timer = new KTIMER();
  readonly Dpc = new KDPC();
  callback: ((DeviceExtension: PVOID_EXTENSION, Context: unknown) => void) | null = null;
  context: unknown = null;
  freed = false;
}

/** The adapter: the FDO's device extension. */
export class RAID_ADAPTER_EXTENSION {
  readonly IsAdapter = true;
  DeviceObject!: DEVICE_OBJECT;
  PhysicalDeviceObject!: DEVICE_OBJECT;
  LowerDeviceObject: DEVICE_OBJECT | null = null;
  /** Port number: the N of \Device\RaidPortN and \DosDevices\ScsiN:. */
  PortNumber = 0;
  State = AdapterState.Added;
  /** The miniport's device extension (HwDeviceExtension). */
  HwDeviceExtension: PVOID_EXTENSION = null;
  readonly ConfigInfo = new PORT_CONFIGURATION_INFORMATION();
  /** Adapter-control types the miniport said it handles (ScsiQuerySupportedControlTypes). */
  SupportedControlTypes = new SCSI_SUPPORTED_CONTROL_TYPE_LIST(SCSI_ADAPTER_CONTROL_TYPE.ScsiAdapterControlMax);
  SupportedUnitControlTypes = new SCSI_SUPPORTED_CONTROL_TYPE_LIST(SCSI_UNIT_CONTROL_TYPE.ScsiUnitControlMax);
  /** Register ranges mapped with StorPortGetDeviceBase: virtual address and length. */
  readonly MappedAddresses: { va: PVOID; physical: number; length: number }[] = [];
  DmaAdapter: DMA_ADAPTER | null = null;
  NumberOfMapRegisters = 0;
  /** Device-reachable memory handed out (uncached extension, contiguous memory, SRB extension pages). */
  readonly DmaRegions: DmaRegion[] = [];
  UncachedExtension: DmaRegion | null = null;
  /** Interrupt descriptors in the translated resources (0: nothing to connect, the miniport polls). */
  InterruptResources = 0;
  /** Interrupts: the message table, or the line's object. */
  InterruptConnection = 0;
  MessageTable: IO_INTERRUPT_MESSAGE_INFO | null = null;
  LineInterrupt: KINTERRUPT | null = null;
  /** One lock shared by every message (InterruptSynchronizeAll). */
  readonly SharedInterruptLock = new KSPIN_LOCK();
  /** The StartIo lock (HwStartIo runs holding it unless concurrent channels are on). */
  readonly StartIoLock = new KSPIN_LOCK();
  /** Logical units by path/target/LUN key. */
  readonly Units = new Map<number, RAID_UNIT_EXTENSION>();
  /** Performance optimisations the miniport turned on (StorPortInitializePerfOpts), or null. */
  PerfOpts: PERF_CONFIGURATION_DATA | null = null;
  /** True while HwFindAdapter runs (the uncached extension may be allocated then). */
  FindingAdapter = false;
  /** True while HwInitialize or the passive initialization routine runs (perf opts may be set then). */
  Initializing = false;
  PassiveInitialize: HW_PASSIVE_INITIALIZE_ROUTINE | null = null;
  /** The completion DPC of each processor and the requests waiting for it. */
  readonly CompletionDpcs: KDPC[] = [];
  readonly CompletionLists: (RAID_REQUEST | null)[] = [];
  /** Requests not yet given back (pool) and the SRB extensions that travel with them. */
  readonly FreeRequests: RAID_REQUEST[] = [];
  /** Every request object the adapter owns (for removal). */
  readonly AllRequests: RAID_REQUEST[] = [];
  /** Requests the miniport holds right now. */
  Outstanding = 0;
  /** StorPortPause: new requests wait until this time, ps (0 = not paused). */
  PausedUntilPs = 0;
  readonly PauseTimer = new KTIMER();
  readonly PauseDpc = new KDPC();
  /** StorPortBusy: requests still to complete before new ones start (0 = ready). */
  BusyRequestsToComplete = 0;
  /** A bus reset holds new requests until this time, ps. */
  ResetHoldUntilPs = 0;
  /** The request timeout timer is armed. */
  TimeoutTimerArmed = false;
  readonly TimeoutTimer = new KTIMER();
  readonly TimeoutDpc = new KDPC();
  /** RequestTimerCall: the miniport's single timer. */
  readonly HwTimer = new KTIMER();
  readonly HwTimerDpc = new KDPC();
  HwTimerRoutine: HW_TIMER | null = null;
  /** Timers from StorPortInitializeTimer. */
  readonly Timers: RAID_TIMER[] = [];
  /** Device power state the adapter is in (1 = D0). */
  DevicePowerState = 1;
  /** Errors the miniport logged (StorPortLogError): the latest STORPORT_ERROR_LOG_ENTRIES, and how many older ones were dropped. */
  readonly ErrorLog = new BoundedLog<StorPortErrorLogEntry>(STORPORT_ERROR_LOG_ENTRIES, "latest");
  /** Bus resets the port asked the miniport for after timeouts. */
  Resets = 0;
  /** Timeouts seen. */
  Timeouts = 0;
  /** The adapter interface (GUID_DEVINTERFACE_STORAGEPORT) link. */
  InterfaceName = "";
  /** The miniport's SrbTypeFlags: send STORAGE_REQUEST_BLOCKs to it. */
  ExtendedSrbs = false;
  /** STORAGE_BUS_TYPE the adapter reports (StorPortSetAdapterBusType; SCSI unless the miniport says). */
  BusType = 0x01;
  /** The miniport routines' attributions (made on first use). */
  Calls: MiniportCalls | null = null;

  constructor(readonly Driver: RAID_DRIVER_EXTENSION) {}

  /** HW_INITIALIZATION_DATA of the miniport. */
  get Hw(): HW_INITIALIZATION_DATA {
    return this.Driver.HwInitializationData;
  }

  /** The miniport's driver (service) name, for attribution. */
  get Service(): string {
    return this.Driver.serviceName;
  }
}

/** Key of a unit address in Units. */
export function unitKey(PathId: number, TargetId: number, Lun: number): number {
  return (PathId << 16) | (TargetId << 8) | Lun;
}

/** The machine's storport state: adapters by miniport extension, port numbers. */
export class StorportState {
  /** Adapters by miniport extension: change them through add and remove. */
  readonly adapters = new Map<unknown, RAID_ADAPTER_EXTENSION>();
  nextPortNumber = 0;
  /** The extension looked up last and its adapter (a miniport calls the port many times in a row with one extension). */
  private lastExtension: unknown = null;
  private lastAdapter: RAID_ADAPTER_EXTENSION | null = null;

  /** Records `a` as the adapter of miniport extension `ext`. */
  add(ext: unknown, a: RAID_ADAPTER_EXTENSION): void {
    this.adapters.set(ext, a);
    if (ext === this.lastExtension) this.lastAdapter = a;
  }

  /** Forgets the adapter of `ext`. */
  remove(ext: unknown): void {
    this.adapters.delete(ext);
    if (ext === this.lastExtension) {
      this.lastExtension = null;
      this.lastAdapter = null;
    }
  }

  /** The adapter of `ext`, or undefined. */
  find(ext: unknown): RAID_ADAPTER_EXTENSION | undefined {
    if (ext === this.lastExtension && this.lastAdapter) return this.lastAdapter;
    const a = this.adapters.get(ext);
    if (a) {
      this.lastExtension = ext;
      this.lastAdapter = a;
    }
    return a;
  }
}

/** The executing machine's storport state. */
export function STORPORT(k: Kernel = KE()): StorportState {
  let s = k.services.get("storport") as StorportState | undefined;
  if (!s) {
    s = new StorportState();
    k.services.set("storport", s);
  }
  return s;
}

/** The adapter a miniport's HwDeviceExtension belongs to; throws a clear error for anything else. */
export function adapterOf(HwDeviceExtension: PVOID_EXTENSION): RAID_ADAPTER_EXTENSION {
  const a = STORPORT().find(HwDeviceExtension);
  if (!a) throw new Error("StorPort service called with a HwDeviceExtension the port did not hand out");
  return a;
}
