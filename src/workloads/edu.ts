/**
 * The edu workload: a user-mode program that opens the edu device and drives it through
 * its IOCTLs — identification, liveness checks, factorials (each completed by the
 * device's interrupt) and DMA round trips whose data is verified byte for byte — and
 * through WriteFile / ReadFile of its DMA buffer.
 */
import { CloseHandle, CreateFile, DeviceIoControl, GENERIC_READ, GENERIC_WRITE, GetLastError, INVALID_HANDLE_VALUE, OPEN_EXISTING, ReadFile, WriteFile } from "../io/usermode.js";
import {
  EDU_DMA_BUFFER_SIZE, EDU_USER_DEVICE_NAME, eduDmaRequest, IOCTL_EDU_CHECK_LIVENESS, IOCTL_EDU_COMPUTE_FACTORIAL, IOCTL_EDU_DMA_FROM_DEVICE,
  IOCTL_EDU_DMA_TO_DEVICE, IOCTL_EDU_GET_IDENTIFICATION,
} from "../drivers/edu/public.js";
import type { Machine } from "../machine/machine.js";

/** How much work to do. */
export interface EduWorkloadOptions {
  /** Factorials to compute (n cycles through 0..20). */
  factorials: number;
  /** DMA round trips (to the device and back). */
  dmaRoundTrips: number;
  /** Liveness checks. */
  livenessChecks: number;
  /** WriteFile then ReadFile of the device buffer, verified. */
  fileRoundTrips: number;
}

/** Defaults for the main job. */
export const EDU_WORKLOAD_DEFAULTS: EduWorkloadOptions = { factorials: 24, dmaRoundTrips: 16, livenessChecks: 8, fileRoundTrips: 4 };

/** What the workload did and whether every answer was right. */
export interface EduWorkloadResult {
  identification: number;
  liveness: { checks: number; correct: number };
  factorials: { computed: number; correct: number; samples: { n: number; result: number }[] };
  dma: { roundTrips: number; bytes: number; verified: number; mismatches: number };
  files: { roundTrips: number; bytes: number; verified: number };
  /** IOCTLs the program issued. */
  ioctls: number;
  /** Everything matched what the device specification says. */
  ok: boolean;
}

/** n! in 32-bit unsigned arithmetic, as the edu device computes it. */
export function factorial32(n: number): number {
  let r = 1;
  for (let i = 2; i <= n; i++) r = Math.imul(r, i) >>> 0;
  return n >= 34 ? 0 : r;
}

/** A small deterministic byte generator (xorshift32) for DMA patterns, seeded by the machine: `length` bytes from `seed`. */
export function pattern(seed: number, length: number): Uint8Array {
  let x = seed >>> 0 || 0x9E3779B9;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xFF;
  }
  return out;
}

function u32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value >>> 0, true);
  return b;
}

function readU32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset).getUint32(0, true);
}

/** Runs the edu program on a booted machine. */
export async function runEduWorkload(machine: Machine, options: EduWorkloadOptions = EDU_WORKLOAD_DEFAULTS): Promise<EduWorkloadResult> {
  const seed = machine.description.seed;
  return machine.runProgram("edu-workload", async () => {
    const h = await CreateFile(EDU_USER_DEVICE_NAME, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
    if (h === INVALID_HANDLE_VALUE) throw new Error(`CreateFile(${EDU_USER_DEVICE_NAME}) failed: error ${GetLastError()}`);
    let ioctls = 0;
    const out = new Uint8Array(4);

    const id = await DeviceIoControl(h, IOCTL_EDU_GET_IDENTIFICATION, null, 0, out, 4);
    ioctls++;
    if (!id.ok) throw new Error(`IOCTL_EDU_GET_IDENTIFICATION failed: error ${GetLastError()}`);
    const identification = readU32(out);

    let liveCorrect = 0;
    for (let i = 0; i < options.livenessChecks; i++) {
      const value = (0x12345678 * (i + 1) + seed) >>> 0;
      const r = await DeviceIoControl(h, IOCTL_EDU_CHECK_LIVENESS, u32(value), 4, out, 4);
      ioctls++;
      if (r.ok && readU32(out) === (~value >>> 0)) liveCorrect++;
    }

    let factCorrect = 0;
    const samples: { n: number; result: number }[] = [];
    for (let i = 0; i < options.factorials; i++) {
      const n = (i + seed) % 21;
      const r = await DeviceIoControl(h, IOCTL_EDU_COMPUTE_FACTORIAL, u32(n), 4, out, 4);
      ioctls++;
      const result = readU32(out);
      if (r.ok && r.bytes === 4 && result === factorial32(n)) factCorrect++;
      if (samples.length < 6) samples.push({ n, result });
    }

    let bytes = 0;
    let verified = 0;
    let mismatches = 0;
    for (let i = 0; i < options.dmaRoundTrips; i++) {
      const length = [64, 256, 1000, 4096][i % 4];
      const offset = (i * 512) % (EDU_DMA_BUFFER_SIZE - length + 1);
      const data = pattern(seed * 7919 + i, length);
      const w = await DeviceIoControl(h, IOCTL_EDU_DMA_TO_DEVICE, eduDmaRequest(offset, length, data), 8 + length, null, 0);
      const back = new Uint8Array(length);
      const r = await DeviceIoControl(h, IOCTL_EDU_DMA_FROM_DEVICE, eduDmaRequest(offset, length), 8, back, length);
      ioctls += 2;
      bytes += 2 * length;
      if (w.ok && r.ok && r.bytes === length && sameBytes(back, data)) verified++;
      else mismatches++;
    }
    let fileBytes = 0;
    let fileVerified = 0;
    for (let i = 0; i < options.fileRoundTrips; i++) {
      const length = 512 << (i % 4);
      const data = pattern(seed * 104729 + i, length);
      const w = await WriteFile(h, data, length);
      const back = new Uint8Array(length);
      const r = await ReadFile(h, back, length);
      fileBytes += w.bytes + r.bytes;
      if (w.ok && r.ok && w.bytes === length && r.bytes === length && sameBytes(back, data)) fileVerified++;
    }
    await CloseHandle(h);
    const ok = identification === 0x010000ED && liveCorrect === options.livenessChecks && factCorrect === options.factorials
      && mismatches === 0 && fileVerified === options.fileRoundTrips;
    return {
      identification,
      liveness: { checks: options.livenessChecks, correct: liveCorrect },
      factorials: { computed: options.factorials, correct: factCorrect, samples },
      dma: { roundTrips: options.dmaRoundTrips, bytes, verified, mismatches },
      files: { roundTrips: options.fileRoundTrips, bytes: fileBytes, verified: fileVerified },
      ioctls,
      ok,
    };
  });
}

/** The workload's section of the run summary. */
export function formatEduResult(w: EduWorkloadResult): string[] {
  return [
    `  identification             0x${w.identification.toString(16).toUpperCase().padStart(8, "0")}`,
    `  liveness checks            ${w.liveness.correct}/${w.liveness.checks} correct`,
    `  factorials                 ${w.factorials.correct}/${w.factorials.computed} correct (${w.factorials.samples.map((f) => `${f.n}!=${f.result}`).join(", ")}, ...)`,
    `  DMA round trips            ${w.dma.verified}/${w.dma.roundTrips} verified byte for byte (${w.dma.bytes} bytes moved)`,
    `  WriteFile/ReadFile         ${w.files.verified}/${w.files.roundTrips} verified byte for byte (${w.files.bytes} bytes moved)`,
    `  result                     ${w.ok ? "OK" : "FAILED"}`,
  ];
}

/** True when `a` and `b` hold the same bytes (compared as whole buffers, not byte by byte in script). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
