/**
 * Overlapped requests per host second through an I/O completion port: a user-mode program
 * (pinned to CPU 0) opens the test driver's device (test/support/pending-driver.ts: every
 * request pends and is completed by a timer DPC 20 µs later, as a device's interrupt DPC
 * would) with FILE_FLAG_OVERLAPPED, associates it with a completion port, keeps 32
 * requests in flight and reissues each one as GetQueuedCompletionStatus returns it.
 * Baseline, same run: the same requests issued synchronously, one at a time, on a handle
 * opened without FILE_FLAG_OVERLAPPED.
 *
 * Every completion runs the I/O manager's completion work (copy-back, status block,
 * packet) in the issuing thread, as a kernel APC. Host time covers the request loop only;
 * simulated time per request is CPU 0's clock across the loop (the overlapped side
 * overlaps the 20 µs device latency of 32 requests, the synchronous side waits it out
 * each time).
 */
import {
  CloseHandle, CreateFile, CreateIoCompletionPort, DeviceIoControl, GENERIC_READ, GENERIC_WRITE, GetLastError, GetQueuedCompletionStatus,
  FILE_FLAG_OVERLAPPED, INFINITE, INVALID_HANDLE_VALUE, OPEN_EXISTING, OVERLAPPED, ERROR_IO_PENDING,
} from "../src/io/usermode.js";
import { IOCTL_PEND, loadPendingDriver, PEND_DEVICE, pendInput } from "../test/support/pending-driver.js";
import { compare, now, row, type Benchmark, type Sample, SimClock } from "./lib.js";
import { bootDefault, cpuTimePs, type BootedMachine } from "./kernel-machine.js";

/** Device latency of each request, µs. */
const LATENCY_US = 20;
/** Requests kept in flight on the completion port side. */
const IN_FLIGHT = 32;

/** One request's buffers. */
interface Slot {
  ov: OVERLAPPED;
  input: Uint8Array;
  output: Uint8Array;
}

/** A sample: `count` requests through a completion port with IN_FLIGHT outstanding. */
function portLoop(m: BootedMachine, count: number, sim: SimClock): Sample {
  return async () => {
    const r = await m.machine.runProgram("bench-iocp", async () => {
      const h = await CreateFile(PEND_DEVICE, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, null);
      if (h === INVALID_HANDLE_VALUE) throw new Error(`CreateFile failed: ${GetLastError()}`);
      const port = CreateIoCompletionPort(h, null, 1, 1);
      const slots: Slot[] = Array.from({ length: IN_FLIGHT }, (_, i) => ({ ov: new OVERLAPPED(), input: pendInput(LATENCY_US, i), output: new Uint8Array(4) }));
      const byOverlapped = new Map(slots.map((s) => [s.ov, s]));
      let issued = 0;
      let done = 0;
      let bad = 0;
      const issue = async (s: Slot) => {
        issued++;
        const res = await DeviceIoControl(h, IOCTL_PEND, s.input, 12, s.output, 4, s.ov);
        if (!res.ok && GetLastError() !== ERROR_IO_PENDING) bad++;
      };
      const s0 = cpuTimePs();
      const t0 = now();
      for (const s of slots) if (issued < count) await issue(s);
      while (done < count) {
        const got = await GetQueuedCompletionStatus(port, INFINITE);
        const s = byOverlapped.get(got.overlapped as OVERLAPPED);
        if (!got.ok || !s || got.bytes !== 4) bad++;
        done++;
        if (s && issued < count) await issue(s);
      }
      const ms = now() - t0;
      const ps = cpuTimePs() - s0;
      await CloseHandle(h);
      await CloseHandle(port);
      if (bad) throw new Error(`${bad} of ${count} overlapped requests failed`);
      return { ms, ps };
    }, { cpu: 0 });
    sim.add(r.ps, count);
    return { units: count, ms: r.ms };
  };
}

/** A sample: `count` of the same requests, synchronously, one at a time. */
function syncLoop(m: BootedMachine, count: number, sim: SimClock): Sample {
  return async () => {
    const r = await m.machine.runProgram("bench-iocp-sync", async () => {
      const h = await CreateFile(PEND_DEVICE, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
      if (h === INVALID_HANDLE_VALUE) throw new Error(`CreateFile failed: ${GetLastError()}`);
      const input = pendInput(LATENCY_US, 7);
      const output = new Uint8Array(4);
      let bad = 0;
      const s0 = cpuTimePs();
      const t0 = now();
      for (let i = 0; i < count; i++) {
        const res = await DeviceIoControl(h, IOCTL_PEND, input, 12, output, 4);
        if (!res.ok || res.bytes !== 4) bad++;
      }
      const ms = now() - t0;
      const ps = cpuTimePs() - s0;
      await CloseHandle(h);
      if (bad) throw new Error(`${bad} of ${count} synchronous requests failed`);
      return { ms, ps };
    }, { cpu: 0 });
    sim.add(r.ps, count);
    return { units: count, ms: r.ms };
  };
}

export const iocp: Benchmark = {
  name: "iocp",
  description: `overlapped requests through an I/O completion port (${IN_FLIGHT} in flight) against synchronous ones`,
  async run(options) {
    const count = Math.max(200, Math.round(10_000 * options.scale));
    const m = await bootDefault();
    await loadPendingDriver(m.machine);
    const portSim = new SimClock();
    const syncSim = new SimClock();
    const samples = await compare(options.repeats, portLoop(m, count, portSim), syncLoop(m, count, syncSim));
    return [row(`IOCTL through a completion port, ${IN_FLIGHT} in flight (pended, DPC-completed after ${LATENCY_US} µs)`, "requests/s",
      "the same IOCTL synchronously, one at a time", samples, {
        requestsPerRepeat: count,
        inFlight: IN_FLIGHT,
        deviceLatencyUs: LATENCY_US,
        simulatedNsPerRequest: portSim.nsPerOp,
        baselineSimulatedNsPerRequest: syncSim.nsPerOp,
        simulatedSpeedup: syncSim.nsPerOp / portSim.nsPerOp,
      }, { op: "request", ns: portSim.nsPerOp, unitsPerOp: 1 })];
  },
};
