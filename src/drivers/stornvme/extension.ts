/**
 * The NVMe miniport's state: the device extension (registers, the controller's identity,
 * its namespaces, the admin queue and one I/O queue pair per processor), the queue pairs
 * (submission and completion rings in memory the controller reaches, tail and head
 * pointers, the phase, and the table from command identifier to request), and the SRB
 * extension every request carries (its submission entry, kept so the request can be
 * submitted again after a controller reset).
 */
import type { PVOID } from "../../mm/memory.js";
import type { SRB } from "../storage/srb.js";
import { NVME_SQE_SIZE } from "../storage/nvme.js";
import type { STOR_TIMER } from "../storport/index.js";

/** A namespace the controller reported, in the order of its active namespace list. */
export interface NvmeNamespace {
  /** NSID (1-based). */
  Nsid: number;
  /** Size in logical blocks. */
  Blocks: number;
  /** log2 of the logical block size. */
  BlockShift: number;
  /** NGUID (16 bytes; zero when the controller gives none). */
  Nguid: Uint8Array;
}

/** A submission/completion queue pair. */
export class NVME_QUEUE {
  /** Queue identifier (0 = admin). */
  readonly Id: number;
  /** Entries in each ring. */
  readonly Size: number;
  /** Submission and completion rings: virtual and logical (bus) addresses. */
  SqVa: PVOID = 0;
  SqLogical = 0;
  CqVa: PVOID = 0;
  CqLogical = 0;
  /** PRP lists, one per command identifier (ListBytes each). */
  PrpVa: PVOID = 0;
  PrpLogical = 0;
  ListBytes = 0;
  /** Next free submission slot, and where the controller is (from completions). */
  SqTail = 0;
  SqHead = 0;
  CqHead = 0;
  /** Phase tag new completion entries carry. */
  Phase = 1;
  /** The interrupt message (MSI-X table entry) its completions are signalled on. */
  MessageId = 0;
  /** Doorbell registers (virtual addresses). */
  SqDoorbell: PVOID = 0;
  CqDoorbell: PVOID = 0;
  /** Request per command identifier (null: free). */
  readonly Requests: (SRB | null)[];
  /** Free command identifiers (a stack). */
  readonly FreeCids: Uint16Array;
  FreeCount: number;
  /** Commands the controller has (submitted, not completed). */
  Outstanding = 0;
  /** Completion entries consumed and interrupts taken (for reports). */
  Completions = 0;
  Interrupts = 0;

  constructor(id: number, size: number) {
    this.Id = id;
    this.Size = size;
    this.Requests = new Array<SRB | null>(size).fill(null);
    this.FreeCids = new Uint16Array(size);
    // Leave one entry unused: a full ring has tail one behind head.
    this.FreeCount = size - 1;
    for (let i = 0; i < size - 1; i++) this.FreeCids[i] = size - 2 - i;
  }

  /** Resets the rings' pointers and phase (after the controller forgot the queue). */
  resetPointers(): void {
    this.SqTail = 0;
    this.SqHead = 0;
    this.CqHead = 0;
    this.Phase = 1;
  }
}

/** Most PRP entries one request may need (a 1 MiB transfer at any page offset). */
export const MAX_PRP_ENTRIES = 257;

/** What the miniport keeps with each request (the SRB extension). */
export class NVME_SRB_EXTENSION {
  /** Page addresses of the data (PRP1 first); PrpCount of them are meaningful. */
  readonly Prps = new Float64Array(MAX_PRP_ENTRIES);
  PrpCount = 0;
  /** The PRP list as written to the controller's memory (entries 1..PrpCount-1). */
  readonly PrpList = new Uint8Array(MAX_PRP_ENTRIES * 8);
  readonly PrpListView = new DataView(this.PrpList.buffer);
  /** The submission entry built for the request (64 bytes) and a view of it. */
  readonly Sqe = new Uint8Array(NVME_SQE_SIZE);
  readonly SqeView = new DataView(this.Sqe.buffer);
  /** Queue and command identifier while the controller has it (QueueId -1: not submitted). */
  QueueId = -1;
  Cid = 0;
  /** Bytes the request moves (for the completion's DataTransferLength). */
  Bytes = 0;
  /** A protocol (pass-through) request: its I/O control code, where its data goes and what it returns. */
  ProtocolCode = 0;
  ProtocolDataVa: PVOID = 0;
  ProtocolDataLength = 0;
  ProtocolReturnVa: PVOID = 0;
}

/** The miniport's device extension. */
export class NVME_DEVICE_EXTENSION {
  /** BAR0 mapped (StorPortGetDeviceBase), and its length. */
  Registers: PVOID = 0;
  RegistersLength = 0;
  /** Doorbell stride, bytes (4 << CAP.DSTRD). */
  DoorbellStride = 4;
  /** CAP.MQES + 1 and CAP.TO (ms). */
  MaxQueueEntries = 2;
  ReadyTimeoutMs = 500;
  /** Identify Controller: the data as read, and its fields. */
  ControllerData: Uint8Array = new Uint8Array(0);
  SerialNumber = "";
  ModelNumber = "";
  FirmwareRevision = "";
  /** Largest transfer, bytes (from MDTS; 0 = unlimited). */
  MaxTransfer = 0;
  VolatileWriteCache = false;
  readonly Namespaces: NvmeNamespace[] = [];
  /** The admin queue and the I/O queue pairs; IoQueueForCpu[c] serves processor c. */
  Admin: NVME_QUEUE | null = null;
  readonly IoQueues: NVME_QUEUE[] = [];
  readonly IoQueueForCpu: NVME_QUEUE[] = [];
  /** Queues by interrupt message. */
  readonly QueuesForMessage: NVME_QUEUE[][] = [];
  /** Messages the adapter has (0: the line interrupt). */
  MessageCount = 0;
  /** The port has connected the adapter's interrupts (from HwInitialize on). */
  InterruptsConnected = false;
  /** A 4 KiB page the controller reaches, for Identify and log data the driver reads itself. */
  DataPageVa: PVOID = 0;
  DataPageLogical = 0;
  /** The controller is enabled with its I/O queues created. */
  Ready = false;
  /** Recovering: a reset is in progress (new commands wait). */
  Resetting = false;
  /** The hardware is gone (surprise removal): no register access. */
  Removed = false;
  /** Stopped by ScsiStopAdapter (shut down). */
  Stopped = false;
  /** The last shutdown (CC.SHN) reached CSTS.SHST = complete. */
  ShutdownComplete = false;
  /** Requests started while a reset ran, submitted once it is over. */
  readonly Held: SRB[] = [];
  /** Admin commands for pass-through callers, waiting for the admin queue's one slot. */
  readonly ProtocolWaiting: SRB[] = [];
  ProtocolBusy = false;
  /** The health timer that checks CSTS.CFS while commands are outstanding. */
  HealthTimer: STOR_TIMER | null = null;
  HealthTimerArmed = false;
  /** Controller resets done (timeouts and fatal status) and requests resubmitted after them. */
  Resets = 0;
  Resubmitted = 0;
  /** Interrupt coalescing asked for: aggregation threshold (completions) and time (100 us units); 0/0 = off. */
  CoalescingThreshold = 0;
  CoalescingTime = 0;
}
