/**
 * Kernel user-mode surface fuzzing: a user-mode program against the sample drivers (and
 * any extra targets a caller installs) under Driver Verifier, issuing seeded random
 * operations: CreateFile with random access and flags, DeviceIoControl with the drivers'
 * own codes, their codes with another transfer method, and random codes; random input and
 * output sizes (0, small, odd, large, NULL with a size, bad addresses); overlapped and
 * synchronous requests; CancelIo / CancelIoEx; CloseHandle with requests in flight;
 * invalid and closed handles; ReadFile / WriteFile. A bug check is a finding: the
 * operation index that reproduces it, the bug check and the driver blamed.
 */
import { Machine } from "../machine/machine.js";
import { loadMachine } from "../machine/firmwareFiles.js";
import { boot, type BootedKernel } from "../pnp/boot.js";
import { KD } from "../ke/debug-print.js";
import { BugCheck, formatPointer } from "../ke/bugcheck.js";
import { CTL_CODE } from "../io/ioctl.js";
import {
  CloseHandle, CreateFile, DeviceIoControl, ReadFile, WriteFile, VirtualAlloc, FILE_FLAG_OVERLAPPED, GENERIC_READ, GENERIC_WRITE,
  INVALID_HANDLE_VALUE, OPEN_EXISTING, type UserBuffer,
} from "../io/usermode.js";
import {
  ERROR_IO_PENDING, GetLastError,
} from "../io/usermode.js";
import { CancelIo, CancelIoEx } from "../io/cancel-io.js";
import { CreateEvent, Sleep } from "../io/sync-objects.js";
import { GetOverlappedResult, OVERLAPPED } from "../io/overlapped.js";
import type { HANDLE } from "../ob/handle-table.js";
import { DRIVER_FUNC_INSTALL, ManageDriver, programDirectory, SetupDriverName } from "../drivers/samples/common/install.js";
import {
  IOCTL_SIOCTL_METHOD_BUFFERED, IOCTL_SIOCTL_METHOD_IN_DIRECT, IOCTL_SIOCTL_METHOD_NEITHER, IOCTL_SIOCTL_METHOD_OUT_DIRECT,
  DRIVER_NAME as SIOCTL_NAME,
} from "../drivers/samples/ioctl/sioctl-public.js";
import { EVENT_BASED, IOCTL_REGISTER_EVENT, IRP_BASED, REGISTER_EVENT, SIZEOF_REGISTER_EVENT, DRIVER_NAME as EVENT_NAME } from "../drivers/samples/event/public.js";
import { DRIVER_NAME as CANCEL_NAME } from "../drivers/samples/cancel/testapp.js";
import {
  EDU_USER_DEVICE_NAME, IOCTL_EDU_CHECK_LIVENESS, IOCTL_EDU_COMPUTE_FACTORIAL, IOCTL_EDU_DMA_FROM_DEVICE, IOCTL_EDU_DMA_TO_DEVICE,
  IOCTL_EDU_GET_IDENTIFICATION,
} from "../drivers/edu/public.js";
import type { FuzzFinding } from "./report.js";

/** A device the kernel fuzzer opens, and the control codes its driver handles. */
export interface KernelFuzzTarget {
  /** Win32 path, e.g. \\.\IoctlTest. */
  path: string;
  /** The driver's own IOCTL codes. */
  codes: number[];
  /** Only overlapped handles (the driver pends requests until something else happens). */
  overlappedOnly?: boolean;
  /** ReadFile and WriteFile are part of the driver's interface. */
  readWrite?: boolean;
  /** A well-formed input for `code` (the fuzzer sends one half of the time it uses the driver's own code). */
  input?: (code: number, random: () => number) => Uint8Array | null;
}

/** Options of a kernel run. */
export interface KernelFuzzOptions {
  seed: number;
  /** Operations to issue. */
  ops: number;
  /** Special pool for every verified driver (Driver Verifier's Special Pool). */
  specialPool?: boolean;
  /** Driver Verifier's Low Resources Simulation. */
  lowResources?: boolean;
  /** Installs extra drivers on the booted machine before the program runs (tests plant bugs this way). */
  setup?: (machine: Machine) => Promise<void>;
  /** Targets instead of the sample drivers'. */
  targets?: KernelFuzzTarget[];
}

/** Coverage of a kernel run: operations by kind and how they ended. */
export type KernelCoverage = Record<string, number>;

/** Result of a kernel run. */
export interface KernelFuzzResult {
  target: "kernel";
  seed: number;
  ops: number;
  seconds: number;
  opsPerSecond: number;
  coverage: KernelCoverage;
  findings: FuzzFinding[];
}

/** The sample drivers and the edu driver, as the default machine has them. */
export function sampleTargets(): KernelFuzzTarget[] {
  return [
    { path: "\\\\.\\IoctlTest", codes: [IOCTL_SIOCTL_METHOD_BUFFERED, IOCTL_SIOCTL_METHOD_IN_DIRECT, IOCTL_SIOCTL_METHOD_OUT_DIRECT, IOCTL_SIOCTL_METHOD_NEITHER] },
    { path: "\\\\.\\Event_Sample", codes: [IOCTL_REGISTER_EVENT], overlappedOnly: true, input: registerEventInput },
    { path: "\\\\.\\CancelSamp", codes: [], overlappedOnly: true, readWrite: true },
    { path: EDU_USER_DEVICE_NAME, codes: [IOCTL_EDU_GET_IDENTIFICATION, IOCTL_EDU_CHECK_LIVENESS, IOCTL_EDU_COMPUTE_FACTORIAL, IOCTL_EDU_DMA_TO_DEVICE, IOCTL_EDU_DMA_FROM_DEVICE] },
  ];
}

/** A REGISTER_EVENT: IRP_BASED, or EVENT_BASED with a random handle value, due in up to 2 ms (relative, 100 ns units). */
function registerEventInput(_code: number, random: () => number): Uint8Array {
  const b = new Uint8Array(SIZEOF_REGISTER_EVENT);
  const v = new DataView(b.buffer);
  v.setUint32(REGISTER_EVENT.Type, random() % 2 === 0 ? IRP_BASED : EVENT_BASED, true);
  v.setBigUint64(REGISTER_EVENT.hEvent, BigInt(random() % 64), true);
  v.setBigInt64(REGISTER_EVENT.DueTime, -BigInt(random() % 20_000), true);
  return b;
}

/** The sample drivers installed through the Service Control Manager, as their test programs do. */
const SAMPLE_DRIVERS: { name: string; module: string; program: string }[] = [
  { name: SIOCTL_NAME, module: "sioctl", program: new URL("../drivers/samples/ioctl/testapp.ts", import.meta.url).href },
  { name: EVENT_NAME, module: "event", program: new URL("../drivers/samples/event/eventtest.ts", import.meta.url).href },
  { name: CANCEL_NAME, module: CANCEL_NAME, program: new URL("../drivers/samples/cancel/testapp.ts", import.meta.url).href },
];

/** xorshift128+ over two 32-bit halves kept as numbers: the program's own seeded stream. */
class Stream {
  private a: number;
  private b: number;
  constructor(seed: number) {
    this.a = (seed ^ 0x9E3779B9) >>> 0 || 1;
    this.b = (Math.floor(seed / 2 ** 32) ^ 0x85EBCA6B) >>> 0 || 2;
    for (let i = 0; i < 8; i++) this.u32();
  }

  /** 32 random bits. */
  u32(): number {
    let x = this.a;
    const y = this.b;
    this.a = y;
    x ^= x << 11;
    x ^= x >>> 8;
    this.b = (x ^ y ^ (y >>> 19)) >>> 0;
    return this.b;
  }

  /** Uniform in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 2 ** 32) * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

/** Buffer sizes worth trying: none, tiny, odd, exact structure sizes, page edges, large. */
const SIZES = [0, 1, 2, 3, 4, 7, 8, 12, 13, 16, 24, 31, 64, 100, 255, 512, 4095, 4096, 4097, 8192, 65536];
/** Addresses a caller may pass instead of a buffer: NULL page, unmapped user space, kernel space. */
const BAD_ADDRESSES = [0x10, 0x1000, 0x7FFE_0000, 0x7FFF_FFFF_0000, 0x8000_0000_0000, 0xFFFF_FFFF_F000];

const NS = ["open", "openBad", "openFailed", "close", "ioctl", "ioctlOwnCode", "ioctlMethodChanged", "ioctlRandom", "ioctlOk", "ioctlFailed",
  "ioctlPending", "read", "write", "transferOk", "transferFailed", "transferPending", "cancelIo", "cancelIoEx", "closeInFlight",
  "invalidHandle", "nullBufferWithSize", "badAddress", "overlappedPolled", "sleep", "ioctlWellFormed", "machinesBooted"] as const;

function hostSeconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

interface OpenHandle {
  h: HANDLE;
  target: KernelFuzzTarget;
  overlapped: boolean;
  inFlight: OVERLAPPED[];
}

/** Boots the default machine (verifier on) with the options' verifier settings. */
async function fuzzMachine(o: KernelFuzzOptions): Promise<Machine> {
  const d = loadMachine("default");
  d.seed = o.seed % 2 ** 31;
  d.kernel = { ...d.kernel, verifier: true, specialPool: o.specialPool ? "verifyEnd" : d.kernel.specialPool, lowResources: o.lowResources ? true : d.kernel.lowResources };
  const machine = await boot(Machine.fromDescription(d));
  // A kernel debugger is attached, as when the samples are tried out: their DbgBreakPoint calls stop in it and go on.
  KD((machine.kernel as BootedKernel).k).attached = true;
  return machine;
}

/** Runs `ops` seeded user-mode operations against the targets; see KernelFuzzResult. */
export async function fuzzKernel(o: KernelFuzzOptions): Promise<KernelFuzzResult> {
  const started = hostSeconds();
  const coverage: KernelCoverage = Object.fromEntries(NS.map((n) => [n, 0]));
  const findings: FuzzFinding[] = [];
  const targets = o.targets ?? sampleTargets();
  const r = new Stream(o.seed);
  let op = 0;
  const bump = (name: (typeof NS)[number]) => coverage[name]++;
  // A bug check blamed on a driver is recorded and the run goes on with a freshly booted
  // machine (the stream goes on too, so seed and operation index still reproduce each one).
  while (op < o.ops) {
    const machine = await fuzzMachine(o);
    bump("machinesBooted");
    try {
      if (!o.targets) await installSamples(machine);
      await o.setup?.(machine);
      await program(machine);
      break;
    } catch (e) {
      const f = findingOf(e, o.seed, op);
      const same = findings.find((x) => x.kind === f.kind && x.message === f.message);
      if (same) same.repeats = (same.repeats ?? 1) + 1;
      else findings.push(f);
      if ((f.kind !== "bugcheck" && f.kind !== "hang") || f.blame === "nt" || findings.length >= MAX_FINDINGS) break;
      op++;
    }
  }
  const seconds = hostSeconds() - started;
  return { target: "kernel", seed: o.seed, ops: Math.min(op, o.ops), seconds, opsPerSecond: seconds > 0 ? op / seconds : 0, coverage, findings };

  function program(machine: Machine): Promise<void> {
    return machine.runProgram("fuzz", async () => {
      const handles: OpenHandle[] = [];
      const closed: HANDLE[] = [];
      const userBuffer = VirtualAlloc(65536 + 4096);

      /** A buffer argument and its size. */
      const buffer = (): [UserBuffer, number] => {
        const size = r.pick(SIZES);
        const k = r.below(16);
        if (k === 0 && size !== 0) { bump("nullBufferWithSize"); return [null, size]; }
        if (k === 1) { bump("badAddress"); return [r.pick(BAD_ADDRESSES), size]; }
        if (k === 2) return [userBuffer + r.below(4096), size];
        const bytes = new Uint8Array(size);
        for (let i = 0; i < Math.min(size, 32); i++) bytes[i] = r.below(256);
        return [bytes, size];
      };

      const handleFor = (): { h: HANDLE; open?: OpenHandle } => {
        const k = r.below(20);
        if (k === 0 || handles.length === 0) {
          bump("invalidHandle");
          return { h: r.pick([INVALID_HANDLE_VALUE, 0, 0x1234, 4, ...closed.slice(-4)]) };
        }
        const open = r.pick(handles);
        return { h: open.h, open };
      };

      const overlappedFor = (open: OpenHandle | undefined): OVERLAPPED | null => {
        if (!open?.overlapped) return null;
        return new OVERLAPPED({ hEvent: CreateEvent(null, true, false, null) });
      };

      const settle = (open: OpenHandle | undefined, ov: OVERLAPPED | null, ok: boolean, pendingName: "ioctlPending" | "transferPending", okName: "ioctlOk" | "transferOk", failName: "ioctlFailed" | "transferFailed") => {
        if (ov && open && !ok && GetLastError() === ERROR_IO_PENDING) { bump(pendingName); open.inFlight.push(ov); return; }
        bump(ok ? okName : failName);
      };

      for (; op < o.ops; op++) {
        const k = r.below(100);
        if (k < 10 || handles.length === 0) {
          const target = r.pick(targets);
          const bad = r.below(20) === 0;
          const overlapped = target.overlappedOnly || r.below(2) === 0;
          const access = r.pick([0, GENERIC_READ, GENERIC_WRITE, GENERIC_READ | GENERIC_WRITE]);
          bump(bad ? "openBad" : "open");
          const h = await CreateFile(bad ? target.path + "X" : target.path, access, 0, null, OPEN_EXISTING, overlapped ? FILE_FLAG_OVERLAPPED : 0, null);
          if (h === INVALID_HANDLE_VALUE) bump("openFailed");
          else handles.push({ h, target, overlapped, inFlight: [] });
        } else if (k < 16) {
          const i = r.below(handles.length);
          const [open] = handles.splice(i, 1);
          if (open.inFlight.some((ov) => ov.Internal === 0x103)) bump("closeInFlight");
          bump("close");
          await CloseHandle(open.h);
          closed.push(open.h);
        } else if (k < 62) {
          const { h, open } = handleFor();
          const own = open?.target.codes ?? [];
          const c = r.below(10);
          let code: number;
          if (c < 6 && own.length > 0) { code = r.pick(own); bump("ioctlOwnCode"); }
          else if (c < 8 && own.length > 0) { code = ((r.pick(own) & ~3) | r.below(4)) >>> 0; bump("ioctlMethodChanged"); }
          else { code = r.below(2) === 0 ? r.u32() : CTL_CODE(r.below(0x10000), r.below(0x1000), r.below(4), r.below(4)); bump("ioctlRandom"); }
          let [inBuf, inSize] = buffer();
          const [outBuf, outSize] = buffer();
          const formed = c < 3 && open?.target.input ? open.target.input(code, () => r.u32()) : null;
          if (formed) { inBuf = formed; inSize = formed.length; bump("ioctlWellFormed"); }
          const ov = overlappedFor(open);
          bump("ioctl");
          const res = await DeviceIoControl(h, code, inBuf, inSize, outBuf, outSize, ov);
          settle(open, ov, res.ok, "ioctlPending", "ioctlOk", "ioctlFailed");
        } else if (k < 72) {
          const { h, open } = handleFor();
          if (open && !open.target.readWrite && r.below(4) !== 0) continue;
          const [buf, size] = buffer();
          const ov = overlappedFor(open);
          const write = r.below(2) === 0;
          bump(write ? "write" : "read");
          const res = write ? await WriteFile(h, buf, size, ov) : await ReadFile(h, buf, size, ov);
          settle(open, ov, res.ok, "transferPending", "transferOk", "transferFailed");
        } else if (k < 80) {
          const { h, open } = handleFor();
          if (r.below(2) === 0) { bump("cancelIo"); await CancelIo(h); }
          else { bump("cancelIoEx"); await CancelIoEx(h, open && open.inFlight.length > 0 && r.below(2) === 0 ? r.pick(open.inFlight) : null); }
        } else if (k < 88) {
          const open = handles.length > 0 ? r.pick(handles) : undefined;
          if (open && open.inFlight.length > 0) {
            const ov = open.inFlight[r.below(open.inFlight.length)];
            await GetOverlappedResult(open.h, ov, false);
            bump("overlappedPolled");
            open.inFlight = open.inFlight.filter((x) => x.Internal === 0x103);
          }
        } else {
          bump("sleep");
          await Sleep(r.below(3));
        }
      }
      for (const open of handles) await CloseHandle(open.h);
      await Sleep(50);
    }, { maxSimTime: 5 + (o.ops - op) * 0.002 });
  }
}

/** Distinct findings a kernel run collects before it stops. */
const MAX_FINDINGS = 20;

/** Installs the sample drivers through the Service Control Manager, as their test programs do. */
function installSamples(machine: Machine): Promise<void> {
  return machine.runProgram("install", async () => {
    for (const s of SAMPLE_DRIVERS) {
      const location = SetupDriverName(s.name, s.module, programDirectory(s.program));
      if (location === null || !await ManageDriver(s.name, location, DRIVER_FUNC_INSTALL)) throw new Error(`cannot install the ${s.name} sample`);
    }
  });
}

/** A finding from what the program threw: a bug check (blamed as WinDbg blames it), a hang, or a host exception. */
function findingOf(e: unknown, seed: number, op: number): FuzzFinding {
  if (e instanceof BugCheck) {
    return {
      target: "kernel", seed, op, kind: "bugcheck", blame: e.context.driver,
      message: `bug check 0x${e.code.toString(16).toUpperCase()} ${e.bugCheckName} in ${e.context.driver}!${e.context.routine}`,
      bugCheck: { code: e.code, name: e.bugCheckName, parameters: e.parameters.map((p) => formatPointer(p)) },
    };
  }
  const err = e as Error;
  const hang = err?.name === "KernelHang" || err?.name === "RunLimitReached";
  const report = (err as { report?: string })?.report;
  // A hang is blamed on the driver holding the oldest request that never completed.
  const holder = /\[ \\Driver\\([^\]\s]+)\s*\]/.exec(report ?? "")?.[1];
  if (hang) {
    return {
      target: "kernel", seed, op, kind: "hang", blame: holder ?? "unknown", details: report,
      message: `${err.name}: ${holder ? `a request held by ${holder} never completed` : "the program stopped making progress"}`,
    };
  }
  return { target: "kernel", seed, op, kind: "host-exception", blame: "nt", message: `${err?.name ?? "error"}: ${err?.message ?? String(e)}`, details: err?.stack };
}
