/**
 * NVMe 4 KiB random reads completed per host second, with the controller driven directly
 * from TypeScript (no kernel): commands written into an I/O submission queue in guest
 * RAM, the doorbell rung by an MMIO write, the core run until the completions are in,
 * the completion queue reaped. Queue depth 1 (one command at a time) and 32 (32 in
 * flight). Baselines measured in the same run: for QD1, a bare 4 KiB memory.copy in the
 * same WebAssembly instance (the floor of moving the data); for QD32, QD1.
 */
import { readyNvme, IO, MEM, type Command, type Nvme } from "../test/support/nvme-harness.js";
import { compare, now, row, type Benchmark, type Row, type RunOptions, type Sample } from "./lib.js";

const BLOCK = 512;
const BLOCKS_PER_READ = 4096 / BLOCK;

/** A deterministic LBA stream (xorshift32) over the namespace, 4 KiB aligned. */
function lbas(n: Nvme): () => number {
  const reads = Math.floor(n.param("namespaceBlocks") / BLOCKS_PER_READ);
  let x = 0x2545F491;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return (x % reads) * BLOCKS_PER_READ;
  };
}

/** Issues `depth` reads at once, runs until they complete, reaps them; returns simulated ps taken. */
function batch(n: Nvme, next: () => number, depth: number): number {
  const t0 = n.h.now;
  const read = READ_COMMAND;
  for (let i = 0; i < depth; i++) {
    const lba = next();
    read.cdw10 = lba >>> 0;
    read.cdw11 = Math.floor(lba / 2 ** 32);
    read.prp1 = MEM.DATA + i * 4096;
    n.submit(1, read, false);
  }
  n.ring(1);
  n.settle();
  let done = 0;
  while (n.nextCompletion(1)) {
    const c = n.completion;
    if (c.sc !== 0 || c.sct !== 0) throw new Error(`read cid ${c.cid} failed: sct ${c.sct}, sc ${c.sc}`);
    done++;
  }
  n.ringCq(1);
  if (done !== depth) throw new Error(`expected ${depth} reads, ${done} completed`);
  return n.h.now - t0;
}

/** The read command, reused for every read (its LBA and PRP set per read). */
const READ_COMMAND: Command = { opcode: IO.READ, nsid: 1, prp1: 0, prp2: 0, cdw10: 0, cdw11: 0, cdw12: BLOCKS_PER_READ - 1 };

function sampler(depth: number, reads: number): { sample: Sample; simulatedIops: () => number } {
  const n = readyNvme();
  n.createPair(1, 64);
  const next = lbas(n);
  batch(n, next, depth);
  let simPs = 0;
  let simReads = 0;
  const batches = Math.max(1, Math.round(reads / depth));
  return {
    sample: () => {
      const t0 = now();
      for (let b = 0; b < batches; b++) simPs += batch(n, next, depth);
      simReads += batches * depth;
      return { units: batches * depth, ms: now() - t0 };
    },
    simulatedIops: () => (simReads * 1e12) / simPs,
  };
}

async function queueDepth1(options: RunOptions): Promise<Row> {
  const reads = Math.max(200, Math.round(20_000 * options.scale));
  const qd1 = sampler(1, reads);
  const h = readyNvme().h;
  const copies = reads * 20;
  const copy: Sample = () => {
    const t0 = now();
    for (let i = 0; i < copies; i++) if (!h.x.physBlock(MEM.DATA, 0, 4096, 1)) throw new Error("physBlock refused the copy");
    return { units: copies, ms: now() - t0 };
  };
  const samples = await compare(options.repeats, qd1.sample, copy);
  const iops = qd1.simulatedIops();
  return row("NVMe 4 KiB random reads, queue depth 1, driven from TypeScript", "reads/s", "memory.copy of 4 KiB via physBlock (copies/s)", samples,
    { simulatedIops: Math.round(iops) }, { op: "read (QD1)", ns: 1e9 / iops, unitsPerOp: 1 });
}

async function queueDepth32(options: RunOptions): Promise<Row> {
  const reads = Math.max(640, Math.round(60_000 * options.scale));
  const qd32 = sampler(32, reads);
  const qd1 = sampler(1, Math.round(reads / 3));
  const samples = await compare(options.repeats, qd32.sample, qd1.sample);
  const iops = qd32.simulatedIops();
  return row("NVMe 4 KiB random reads, queue depth 32, driven from TypeScript", "reads/s", "the same at queue depth 1", samples,
    { simulatedIops: Math.round(iops) }, { op: "read (QD32, per read)", ns: 1e9 / iops, unitsPerOp: 1 });
}

export const nvme: Benchmark = {
  name: "nvme",
  description: "NVMe 4 KiB random reads per host second at queue depth 1 and 32",
  async run(options) {
    return [await queueDepth1(options), await queueDepth32(options)];
  },
};
