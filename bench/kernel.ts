/**
 * The kernel's own bookkeeping, per host second, in a kernel thread on CPU 0 of the
 * default machine:
 *
 * - KeAcquireSpinLock / KeReleaseSpinLock pairs (uncontended). Baseline: KeRaiseIrql to
 *   DISPATCH_LEVEL / KeLowerIrql pairs, the IRQL part of the same work.
 * - DPC queue-and-run: KeInsertQueueDpc at PASSIVE_LEVEL, which runs the DPC at once
 *   (the processor is below DISPATCH_LEVEL). Baseline: KeInsertQueueDpc and
 *   KeRemoveQueueDpc at DISPATCH_LEVEL, the queue bookkeeping alone.
 * - ISR + DPC pairs: edu raises its interrupt (a write to its raise register), the MSI
 *   reaches CPU 0, the driver's ISR acknowledges it and queues its DPC, which runs. The
 *   host nanoseconds per pair are the kernel's cost of one simulated interrupt. Baseline:
 *   the same loop without an interrupt (the write goes to the liveness register, then the
 *   same stall), so the ratio shows what the interrupt path adds.
 */
import { KeAcquireSpinLock, KeReleaseSpinLock, KSPIN_LOCK, KeInitializeSpinLock } from "../src/ke/spinlock.js";
import { KeRaiseIrql, KeLowerIrql } from "../src/ke/level.js";
import { KDPC, KeInitializeDpc, KeInsertQueueDpc, KeRemoveQueueDpc } from "../src/ke/dpc.js";
import { DISPATCH_LEVEL } from "../src/ke/irql.js";
import { WRITE_REGISTER_ULONG } from "../src/hal/registers.js";
import { KeStallExecutionProcessor } from "../src/hal/timing.js";
import * as HW from "../src/drivers/edu/hw.js";
import { compare, median, now, row, type Benchmark, type Sample } from "./lib.js";
import { bootDefault, type BootedMachine } from "./kernel-machine.js";

/** A sample: `body(count)` in a kernel thread on CPU 0, timed. */
function inKernel(m: BootedMachine, name: string, count: number, body: (count: number) => void): Sample {
  return async () => m.machine.exec(() => {
    const t0 = now();
    body(count);
    return { units: count, ms: now() - t0 };
  }, { cpu: 0, name });
}

export const kernel: Benchmark = {
  name: "kernel",
  description: "spin lock pairs, DPC queue-and-run, and the kernel's host cost per ISR + DPC pair",
  async run(options) {
    const n = Math.max(1000, Math.round(200_000 * options.scale));
    const m = await bootDefault();
    const stats = m.kernel.recorder.stats;

    const lock = new KSPIN_LOCK();
    await m.machine.exec(() => KeInitializeSpinLock(lock));
    const locks = await compare(options.repeats,
      inKernel(m, "bench-spinlock", n, (c) => {
        for (let i = 0; i < c; i++) KeReleaseSpinLock(lock, KeAcquireSpinLock(lock));
      }),
      inKernel(m, "bench-irql", n, (c) => {
        for (let i = 0; i < c; i++) KeLowerIrql(KeRaiseIrql(DISPATCH_LEVEL));
      }));

    const dpc = new KDPC();
    let ran = 0;
    await m.machine.exec(() => KeInitializeDpc(dpc, function BenchDpc() { ran++; }, null));
    const before = ran;
    const dpcs = await compare(options.repeats,
      inKernel(m, "bench-dpc", n, (c) => {
        for (let i = 0; i < c; i++) KeInsertQueueDpc(dpc, null, null);
      }),
      inKernel(m, "bench-dpc-queue", n, (c) => {
        const old = KeRaiseIrql(DISPATCH_LEVEL);
        for (let i = 0; i < c; i++) {
          KeInsertQueueDpc(dpc, null, null);
          KeRemoveQueueDpc(dpc);
        }
        KeLowerIrql(old);
      }));
    const dpcRuns = ran - before;
    const expectedRuns = n * (options.repeats + 1);
    if (dpcRuns !== expectedRuns) throw new Error(`the DPC ran ${dpcRuns} times, expected ${expectedRuns}`);

    const pairs = Math.max(200, Math.round(20_000 * options.scale));
    const raise = m.registers + HW.EDU_REG_INTERRUPT_RAISE;
    const liveness = m.registers + HW.EDU_REG_LIVENESS;
    const isrsBefore = stats.isrs;
    const dpcsBefore = stats.dpcs;
    const interrupts = await compare(options.repeats,
      inKernel(m, "bench-interrupt", pairs, (c) => {
        for (let i = 0; i < c; i++) {
          WRITE_REGISTER_ULONG(raise, 0x1000);
          // Let the posted write and the MSI arrive: the ISR and DPC run inside the stall.
          KeStallExecutionProcessor(2);
        }
      }),
      inKernel(m, "bench-no-interrupt", pairs, (c) => {
        for (let i = 0; i < c; i++) {
          WRITE_REGISTER_ULONG(liveness, i);
          KeStallExecutionProcessor(2);
        }
      }));
    const isrs = stats.isrs - isrsBefore;
    const dpcRan = stats.dpcs - dpcsBefore;
    const expectedPairs = pairs * (options.repeats + 1);
    if (isrs !== expectedPairs || dpcRan < expectedPairs) throw new Error(`${isrs} ISRs and ${dpcRan} DPCs for ${expectedPairs} raised interrupts`);

    const irqRow = row("edu interrupt → ISR → DPC (kernel bookkeeping per simulated interrupt)", "pairs/s", "the same write + 2 us stall to a register that raises no interrupt", interrupts, {
      pairsPerRepeat: pairs,
      hostNsPerPair: 1e9 / median(interrupts.value),
    });
    return [
      row("KeAcquireSpinLock / KeReleaseSpinLock", "pairs/s", "KeRaiseIrql(DISPATCH_LEVEL) / KeLowerIrql", locks, { pairsPerRepeat: n }),
      row("KeInsertQueueDpc at PASSIVE_LEVEL (queued and run)", "DPCs/s", "KeInsertQueueDpc + KeRemoveQueueDpc at DISPATCH_LEVEL", dpcs, { dpcsPerRepeat: n }),
      irqRow,
    ];
  },
};
