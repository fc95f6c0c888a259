/**
 * End-to-end edu IOCTL round trips per host second: a user-mode program (Machine.
 * runProgram, pinned to CPU 0) opens \\.\Edu0 and loops DeviceIoControl. Two kinds:
 *
 * - IOCTL_EDU_GET_IDENTIFICATION completes synchronously in the dispatch routine (one
 *   register read). Baseline: READ_REGISTER_ULONG of the same register from a kernel
 *   thread, i.e. the device access alone, without the system call and IRP path.
 * - IOCTL_EDU_COMPUTE_FACTORIAL is pended and completed from the DPC the device's MSI
 *   causes (the thread waits, the processor idles until the interrupt). Baseline: the
 *   synchronous identification IOCTL, measured alongside it.
 *
 * - IOCTL_EDU_GET_IDENTIFICATION against the ideal (bench/ideal.ts): the same call, staging,
 *   IRP, register read through the core and copy back in plain TypeScript, awaited from the
 *   same kind of program.
 *
 * Host time covers the loop only (not process creation or CreateFile). Simulated time
 * per IOCTL is CPU 0's clock across the loop.
 */
import { CloseHandle, CreateFile, DeviceIoControl, GENERIC_READ, GENERIC_WRITE, GetLastError, INVALID_HANDLE_VALUE, OPEN_EXISTING } from "../src/io/usermode.js";
import { EDU_USER_DEVICE_NAME, IOCTL_EDU_COMPUTE_FACTORIAL, IOCTL_EDU_GET_IDENTIFICATION } from "../src/drivers/edu/public.js";
import { READ_REGISTER_ULONG } from "../src/hal/registers.js";
import { compare, now, row, type Benchmark, type Sample, SimClock } from "./lib.js";
import { bootDefault, cpuTimePs, type BootedMachine } from "./kernel-machine.js";
import { EDU } from "./core-machine.js";
import { IdealIoctl } from "./ideal.js";

const EDU_ID_VALUE = 0x010000ED;

function factorial32(n: number): number {
  let r = 1;
  for (let i = 2; i <= n; i++) r = Math.imul(r, i) >>> 0;
  return r;
}

type Kind = "identification" | "factorial";

/** A sample: one program that issues `count` IOCTLs of `kind`. */
function ioctlLoop(m: BootedMachine, kind: Kind, count: number, sim: SimClock): Sample {
  return async () => {
    const r = await m.machine.runProgram(`bench-${kind}`, async () => {
      const h = await CreateFile(EDU_USER_DEVICE_NAME, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
      if (h === INVALID_HANDLE_VALUE) throw new Error(`CreateFile(${EDU_USER_DEVICE_NAME}) failed: error ${GetLastError()}`);
      const out = new Uint8Array(4);
      const outView = new DataView(out.buffer);
      const input = new Uint8Array(4);
      const inView = new DataView(input.buffer);
      let bad = 0;
      const s0 = cpuTimePs();
      const t0 = now();
      if (kind === "identification") {
        for (let i = 0; i < count; i++) {
          const res = await DeviceIoControl(h, IOCTL_EDU_GET_IDENTIFICATION, null, 0, out, 4);
          if (!res.ok || outView.getUint32(0, true) !== EDU_ID_VALUE) bad++;
        }
      } else {
        for (let i = 0; i < count; i++) {
          const n = 1 + (i % 12);
          inView.setUint32(0, n, true);
          const res = await DeviceIoControl(h, IOCTL_EDU_COMPUTE_FACTORIAL, input, 4, out, 4);
          if (!res.ok || outView.getUint32(0, true) !== factorial32(n)) bad++;
        }
      }
      const ms = now() - t0;
      const ps = cpuTimePs() - s0;
      await CloseHandle(h);
      if (bad) throw new Error(`${bad} of ${count} ${kind} IOCTLs failed or returned a wrong value`);
      return { ms, ps };
    }, { cpu: 0 });
    sim.add(r.ps, count);
    return { units: count, ms: r.ms };
  };
}

/** A sample: a program on CPU 0 issuing `count` identification IOCTLs through the ideal path. */
function idealIoctlLoop(m: BootedMachine, count: number): Sample {
  const ideal = new IdealIoctl();
  const id = m.registers + EDU.ID;
  return async () => {
    const r = await m.machine.runProgram("bench-ideal", async () => {
      const h = ideal.open(id);
      const out = new Uint8Array(4);
      const outView = new DataView(out.buffer);
      let bad = 0;
      const t0 = now();
      for (let i = 0; i < count; i++) {
        const res = await ideal.deviceIoControl(h, IOCTL_EDU_GET_IDENTIFICATION, null, 0, out, 4);
        if (!res.ok || outView.getUint32(0, true) !== EDU_ID_VALUE) bad++;
      }
      const ms = now() - t0;
      if (bad) throw new Error(`${bad} of ${count} ideal IOCTLs returned a wrong value`);
      return { ms };
    }, { cpu: 0 });
    return { units: count, ms: r.ms };
  };
}

/** A sample: a kernel thread on CPU 0 reading the identification register `count` times. */
function registerLoop(m: BootedMachine, count: number, sim: SimClock): Sample {
  const id = m.registers + EDU.ID;
  return async () => {
    const r = await m.machine.exec(() => {
      const s0 = cpuTimePs();
      const t0 = now();
      let bad = 0;
      for (let i = 0; i < count; i++) if (READ_REGISTER_ULONG(id) !== EDU_ID_VALUE) bad++;
      const ms = now() - t0;
      if (bad) throw new Error(`${bad} identification reads returned the wrong value`);
      return { ms, ps: cpuTimePs() - s0 };
    }, { cpu: 0, name: "bench-register" });
    sim.add(r.ps, count);
    return { units: count, ms: r.ms };
  };
}

export const ioctl: Benchmark = {
  name: "ioctl",
  description: "edu IOCTL round trips from a user-mode program (synchronous and interrupt-completed)",
  async run(options) {
    const count = Math.max(200, Math.round(20_000 * options.scale));
    const m = await bootDefault();

    const idSim = new SimClock();
    const regSim = new SimClock();
    const sync = await compare(options.repeats, ioctlLoop(m, "identification", count, idSim), registerLoop(m, count * 10, regSim));
    const syncRow = row("IOCTL_EDU_GET_IDENTIFICATION (synchronous)", "IOCTLs/s", "READ_REGISTER_ULONG(edu ID) in a kernel thread", sync, {
      ioctlsPerRepeat: count,
      simulatedNsPerIoctl: idSim.nsPerOp,
      baselineSimulatedNsPerRead: regSim.nsPerOp,
    }, { op: "IOCTL", ns: idSim.nsPerOp, unitsPerOp: 1 });

    const factSim = new SimClock();
    const idSim2 = new SimClock();
    const fact = await compare(options.repeats, ioctlLoop(m, "factorial", count, factSim), ioctlLoop(m, "identification", count, idSim2));
    const factRow = row("IOCTL_EDU_COMPUTE_FACTORIAL (pended, completed by MSI → ISR → DPC)", "IOCTLs/s", "IOCTL_EDU_GET_IDENTIFICATION (synchronous)", fact, {
      ioctlsPerRepeat: count,
      simulatedNsPerIoctl: factSim.nsPerOp,
      baselineSimulatedNsPerIoctl: idSim2.nsPerOp,
      factorialInputs: "1..12",
    }, { op: "IOCTL", ns: factSim.nsPerOp, unitsPerOp: 1 });
    const ideal = await compare(options.repeats, ioctlLoop(m, "identification", count, new SimClock()), idealIoctlLoop(m, count * 4));
    const idealRow = row("IOCTL_EDU_GET_IDENTIFICATION (synchronous), against the ideal", "IOCTLs/s",
      "the ideal: call, staging, IRP, the register read through the core, copy back, in plain TypeScript", ideal, { ioctlsPerRepeat: count, idealIoctlsPerRepeat: count * 4 });
    return [idealRow, syncRow, factRow];
  },
};
