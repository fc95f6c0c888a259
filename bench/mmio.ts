/**
 * MMIO register reads per host second from a TypeScript driver: on a booted default
 * machine, a system thread (Machine.exec) loops READ_REGISTER_ULONG on the edu
 * identification register through the mapping the edu driver made. Each read goes
 * through the kernel's register layer (clock catch-up, fault check, cost charge,
 * preemption point), the core's MMU and the PCIe round trip. Baseline: the same read
 * issued straight at the core (`cpuRead` export) on a bare default machine, no kernel.
 */
import { compare, now, row, type Benchmark, type Sample } from "./lib.js";
import { READ_REGISTER_ULONG } from "../src/hal/registers.js";
import { bootDefault, cpuTimePs } from "./kernel-machine.js";
import { defaultMachineWithEdu, read32, EDU } from "./core-machine.js";

const EDU_ID_VALUE = 0x010000ED;

export const mmio: Benchmark = {
  name: "mmio",
  description: "READ_REGISTER_ULONG from a driver thread vs the core's bare cpuRead",
  async run(options) {
    const reads = Math.max(1000, Math.round(1_000_000 * options.scale));
    const { machine, registers } = await bootDefault();
    const id = registers + EDU.ID;
    let simPs = 0;
    let simReads = 0;
    const kernel: Sample = async () => {
      const r = await machine.exec(() => {
        const s0 = cpuTimePs();
        const t0 = now();
        let bad = 0;
        for (let i = 0; i < reads; i++) if (READ_REGISTER_ULONG(id) !== EDU_ID_VALUE) bad++;
        const ms = now() - t0;
        if (bad) throw new Error(`${bad} identification reads returned the wrong value`);
        return { ms, sim: cpuTimePs() - s0 };
      }, { name: "bench-mmio" });
      simPs += r.sim;
      simReads += reads;
      return { units: reads, ms: r.ms };
    };
    const h = defaultMachineWithEdu();
    let bareSimPs = 0;
    const bare: Sample = () => {
      const s0 = h.cpuTime();
      const t0 = now();
      let bad = 0;
      for (let i = 0; i < reads; i++) if (read32(h, EDU.ID) !== EDU_ID_VALUE) bad++;
      const ms = now() - t0;
      if (bad) throw new Error(`${bad} identification reads returned the wrong value`);
      bareSimPs = (h.cpuTime() - s0) / reads;
      return { units: reads, ms };
    };
    const samples = await compare(options.repeats, kernel, bare);
    return [row("MMIO reads: READ_REGISTER_ULONG(edu ID) in Machine.exec", "reads/s", "core cpuRead of the same register, no kernel", samples, {
      readsPerRepeat: reads,
      simulatedNsPerRead: simPs / 1000 / simReads,
      bareSimulatedNsPerRead: bareSimPs / 1000,
    }, { op: "register read", ns: simPs / 1000 / simReads, unitsPerOp: 1 })];
  },
};
