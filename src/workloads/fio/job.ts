/**
 * One fio job (one clone of a job section) as it runs in its own user-mode thread: open
 * the target, work out the region from offset= and size=, then loop — keep iodepth I/Os in
 * flight through the engine, reap completions, account them — until the loops are done or
 * the runtime is up (time_based: loop until it is); then, for a job that wrote with
 * verify=, read every written block back and check it. Times come from the executing
 * processor's clock (simulated picoseconds); nothing is measured before ramp_time has
 * passed.
 */
import { KE } from "../../ke/kernel.js";
import { callingThread } from "../../io/win32.js";
import { chargeUserTime, GetCurrentThread, GetThreadTimes } from "../../io/threads.js";
import { readBytes, writeBytes } from "../../mm/memory.js";
import { allocateSlotBuffers, ERRNO_TEXT, IoSlot, SyncEngine, WindowsAioEngine, type FioEngine } from "./engine.js";
import { IoPlanner, STREAM_DATA, type PlannedIo } from "./offsets.js";
import { blockSizeRange, jobDirections, type FioJobOptions } from "./options.js";
import { FioRandom, hash32 } from "./random.js";
import { DDIR_NAMES, DDIR_READ, DDIR_WRITE, RateSampler, ThreadStats } from "./stats.js";
import { checkVerifyBlock, EILSEQ, EILSEQ_TEXT, fillVerifyBlock } from "./verify.js";

/** Processor cycles fio's own code spends per I/O in user mode (choosing the I/O, timestamps, accounting). */
export const FIO_USER_CYCLES_PER_IO = 600;

/** Picoseconds per nanosecond and per millisecond. */
const PS_PER_NS = 1000;
const PS_PER_MS = 1e9;

/** The clock fio reads: the executing processor's, ps. */
function now(): number {
  return KE().cpu.time;
}

/** Verify failures whose messages a job keeps; later ones are counted, and one line at the end says how many. */
export const FIO_VERIFY_FAILURES_LOGGED = 100;

/** What a job did, besides its statistics. */
export interface FioJobOutcome {
  /** Messages fio prints while the job runs (I/O errors, the first FIO_VERIFY_FAILURES_LOGGED verify failures). */
  log: string[];
  /** Blocks checked by verify, and how many failed. */
  verified: number;
  verifyFailures: number;
}

/** One measured I/O as the job saw it (FioJob.trace): direction, place, and its times in ps. */
export interface FioIoRecord {
  ddir: number;
  offset: number;
  length: number;
  bytes: number;
  /** fio's start_time, issue_time, and the time its completion was reaped. */
  startPs: number;
  issuePs: number;
  reapPs: number;
  /** A read of the verify phase. */
  verifyRead: boolean;
}

/** A job clone, ready to run in its thread. */
export class FioJob {
  readonly stats: ThreadStats;
  readonly outcome: FioJobOutcome = { log: [], verified: 0, verifyFailures: 0 };
  /** Thread id of the job's thread (fio's pid), once it runs. */
  threadId = 0;
  /** Every measured I/O, when the run asked for it (FioRunOptions.traceIos); null otherwise. */
  trace: FioIoRecord[] | null = null;
  /** Processors the job's thread was seen running on, one bit each (checked when it issues and reaps). */
  cpusSeen = 0;
  /** When the job started and ended, ps. */
  startPs = 0;
  endPs = 0;
  private readonly seed: number;

  constructor(
    readonly options: FioJobOptions,
    /** fio's thread_number: 1 for the first job of the file. */
    readonly threadNumber: number,
    /** Reporting group. */
    readonly groupid: number,
    machineSeed: number,
    /** Picoseconds per processor cycle. */
    private readonly psPerCycle: number,
  ) {
    this.stats = new ThreadStats(options.name);
    this.stats.groupid = groupid;
    this.stats.members = 1;
    this.stats.description = options.description;
    this.stats.unified = options.unifiedRwReporting;
    this.stats.percentileList = options.percentileList;
    this.stats.percentilePrecision = options.percentilePrecision;
    this.stats.clatPercentiles = options.clatPercentiles;
    this.stats.kbBase = options.kbBase;
    const base = options.randseed ?? machineSeed;
    // randrepeat=1: the same offsets every run with this seed; 0: a different series per job number as well.
    const salt = options.randrepeat ? 0 : 0x5DEECE66;
    this.seed = (hash32((base >>> 0) ^ hash32(threadNumber + salt)) + Math.floor(base / 2 ** 32) * 0x9E3779B1) >>> 0;
  }

  private fail(error: number, verror: string): void {
    if (this.stats.error !== 0) return;
    this.stats.error = error;
    this.stats.verror = verror;
  }

  /** Runs the job in the calling (user-mode) thread. */
  async run(): Promise<void> {
    const o = this.options;
    const stats = this.stats;
    this.threadId = callingThread().Tcb.ThreadId;
    stats.pid = this.threadId;
    const jobStart = now();
    this.startPs = jobStart;
    stats.jobStartMs = Math.floor(jobStart / PS_PER_MS);
    const dirs = jobDirections(o.rw);
    const engine: FioEngine = o.ioengine === "windowsaio" ? new WindowsAioEngine(now) : new SyncEngine(now);
    const opened = await engine.open(o.filename, dirs.writes, o.direct, dirs.random);
    if (opened !== 0) {
      this.fail(opened, `func=${engine.failedCall}, error=${ERRNO_TEXT[opened] ?? "Input/output error"}`);
      this.outcome.log.push(`fio: pid=${this.threadId}, err=${opened}/${stats.verror}`);
      this.finishTimes(jobStart);
      return;
    }
    try {
      await this.runOpened(engine, jobStart);
    } finally {
      await engine.close();
      this.finishTimes(jobStart);
    }
  }

  /** Records processor time, context switches and run time at the end. */
  private finishTimes(jobStart: number): void {
    const t = GetThreadTimes(GetCurrentThread());
    this.stats.usrMs = Math.floor(t.UserTime / 10_000);
    this.stats.sysMs = Math.floor(t.KernelTime / 10_000);
    this.stats.ctx = callingThread().Tcb.ContextSwitches;
    this.endPs = now();
    this.stats.totalRunTimeMs = Math.floor((this.endPs - jobStart) / PS_PER_MS);
  }

  private async runOpened(engine: FioEngine, jobStart: number): Promise<void> {
    const o = this.options;
    const stats = this.stats;
    const dirs = jobDirections(o.rw);
    const diskSize = engine.sizeBytes;
    const minBs = Math.min(dirs.reads ? blockSizeRange(o, 0)[0] : Infinity, dirs.writes ? blockSizeRange(o, 1)[0] : Infinity);
    const maxBs = Math.max(dirs.reads ? blockSizeRange(o, 0)[1] : 0, dirs.writes ? blockSizeRange(o, 1)[1] : 0);
    const align = (v: number) => Math.floor(v / minBs) * minBs;
    const start = "percent" in o.offset ? align((diskSize * o.offset.percent) / 100) : o.offset.bytes;
    const wanted = o.size === null ? diskSize - start : "percent" in o.size ? Math.floor((diskSize * o.size.percent) / 100) : o.size.bytes;
    const length = Math.max(0, Math.min(wanted, diskSize - start));
    if (length < minBs) {
      this.outcome.log.push(`fio: size too small, must not be less than minimum block size: ${length} < ${minBs}`);
      this.fail(22, `func=setup_files, error=${ERRNO_TEXT[22]}`);
      return;
    }
    const depth = engine.synchronous ? 1 : o.iodepth;
    const slots = Array.from({ length: depth }, (_, i) => new IoSlot(i));
    if (!allocateSlotBuffers(slots, maxBs)) {
      this.fail(12, `func=io_u buffers, error=${ERRNO_TEXT[12]}`);
      return;
    }
    const verify = o.verify !== "none";
    const data = new FioRandom(this.seed, STREAM_DATA);
    const block = new Uint8Array(maxBs);
    // Write buffers hold random bytes from the start (fio fills them once); verify writes refill each time.
    if (dirs.writes && !verify) {
      for (let i = 0; i < maxBs; i++) block[i] = data.nextU32() & 0xFF;
      for (const s of slots) writeBytes(s.va, block);
    }
    const planner = new IoPlanner(o, start, length, this.seed);
    const unit = planner.blockUnit;
    // Written extents for the verify phase: extent length at its first block, and which extent owns each block.
    const written = verify && dirs.writes ? new Float64Array(planner.blocks) : null;
    const owner = verify && dirs.writes ? new Int32Array(planner.blocks).fill(-1) : null;

    const statsStart = jobStart + o.rampTimePs;
    const deadline = o.runtimePs > 0 ? statsStart + o.runtimePs : Infinity;
    const bw = new RateSampler(statsStart, o.bwAvgTimeMs * PS_PER_MS, true, stats.dirs.map((d) => d.bw));
    const iops = new RateSampler(statsStart, o.iopsAvgTimeMs * PS_PER_MS, false, stats.dirs.map((d) => d.iops));
    const free = [...slots].reverse();
    const done: IoSlot[] = new Array(depth);
    const io: PlannedIo = { ddir: 0, offset: 0, length: 0 };
    const userPsPerIo = FIO_USER_CYCLES_PER_IO * this.psPerCycle;
    let inFlight = 0;
    let stopped = false;
    const usedDirs = [false, false];

    const issue = async (slot: IoSlot): Promise<void> => {
      slot.startPs = now();
      this.cpusSeen |= 1 << KE().cpu.Number;
      chargeUserTime(userPsPerIo);
      if (slot.ddir === DDIR_WRITE && verify) {
        fillVerifyBlock(block, slot.length, slot.offset, data);
        writeBytes(slot.va, block.subarray(0, slot.length));
      }
      inFlight++;
      const measured = slot.startPs >= statsStart;
      if (measured) stats.addIssue(slot.ddir, inFlight);
      await engine.submit(slot);
      // Neither engine has a commit step: fio counts each queue call as one submit and one completion batch.
      if (measured) {
        stats.addSubmit(1);
        stats.addComplete(1);
      }
    };

    const complete = (slot: IoSlot, reapPs: number): void => {
      inFlight--;
      free.push(slot);
      if (slot.error !== 0) {
        this.outcome.log.push(`fio: io_u error on file ${o.filename}: ${ERRNO_TEXT[slot.error] ?? "Input/output error"}: ${DDIR_NAMES[slot.ddir]} offset=${slot.offset}, buflen=${slot.length}`);
        this.fail(slot.error, `func=io_u error, error=${ERRNO_TEXT[slot.error] ?? "Input/output error"}`);
        stopped = true;
        return;
      }
      // An I/O is measured when it was issued after ramp_time (its issue is counted then too).
      if (slot.startPs >= statsStart) {
        const slat = engine.synchronous ? -1 : Math.round((slot.issuePs - slot.startPs) / PS_PER_NS);
        const clat = Math.round((reapPs - slot.issuePs) / PS_PER_NS);
        const lat = Math.round((reapPs - slot.startPs) / PS_PER_NS);
        stats.addCompletion(slot.ddir, slot.bytes, slat, clat, lat, slot.length);
        this.trace?.push({ ddir: slot.ddir, offset: slot.offset, length: slot.length, bytes: slot.bytes, startPs: slot.startPs, issuePs: slot.issuePs, reapPs, verifyRead: slot.verifyRead });
        bw.record(slot.ddir, slot.bytes);
        iops.record(slot.ddir, slot.bytes);
        usedDirs[slot.ddir] = true;
      }
      if (written && owner && slot.ddir === DDIR_WRITE && !slot.verifyRead) {
        const first = (slot.offset - start) / unit;
        const n = Math.ceil(slot.length / unit);
        const prior = owner[first];
        if (prior >= 0 && prior < first) written[prior] = 0;
        for (let b = first; b < first + n && b < owner.length; b++) {
          if (written[b] > 0 && b !== first) written[b] = 0;
          owner[b] = first;
        }
        written[first] = slot.length;
      }
      if (verify && slot.ddir === DDIR_READ && (slot.verifyRead || !dirs.writes)) this.check(slot);
    };

    const reap = async (): Promise<void> => {
      const n = await engine.reap(done);
      const reapPs = now();
      this.cpusSeen |= 1 << KE().cpu.Number;
      bw.advance(reapPs);
      iops.advance(reapPs);
      if (!engine.synchronous && reapPs >= statsStart) stats.addComplete(n);
      for (let i = 0; i < n; i++) complete(done[i], reapPs);
    };

    for (let loop = 0; !stopped && (o.timeBased || loop < o.loops); loop++) {
      planner.startLoop();
      let exhausted = false;
      while (!stopped) {
        while (!exhausted && !stopped && inFlight < depth) {
          if (now() >= deadline) {
            stopped = true;
            break;
          }
          if (!planner.next(io)) {
            exhausted = true;
            break;
          }
          const slot = free.pop()!;
          slot.ddir = io.ddir;
          slot.offset = io.offset;
          slot.length = io.length;
          slot.verifyRead = false;
          await issue(slot);
          if (engine.synchronous) await reap();
        }
        if (inFlight === 0) break;
        await reap();
        if (now() >= deadline) stopped = true;
      }
      while (inFlight > 0) await reap();
      if (now() >= deadline) stopped = true;
    }
    const mainEnd = now();
    const elapsedUs = Math.floor((mainEnd - statsStart) / 1e6);
    for (const d of [DDIR_READ, DDIR_WRITE]) {
      if (usedDirs[d] && stats.dirs[d].ioBytes > 0) stats.dirs[d].runtimeMs = Math.ceil(elapsedUs / 1000);
    }

    if (written && owner && o.doVerify && stats.error === 0) {
      const verifyStart = now();
      let b = 0;
      let verifyUsed = false;
      while (b < written.length || inFlight > 0) {
        while (b < written.length && inFlight < depth) {
          if (written[b] > 0 && owner[b] === b) {
            const slot = free.pop()!;
            slot.ddir = DDIR_READ;
            slot.offset = start + b * unit;
            slot.length = written[b];
            slot.verifyRead = true;
            b += Math.ceil(slot.length / unit);
            await issue(slot);
            if (engine.synchronous) await reap();
            verifyUsed = true;
          } else {
            b++;
          }
        }
        if (inFlight > 0) await reap();
        if (o.verifyFatal && this.outcome.verifyFailures > 0) break;
      }
      while (inFlight > 0) await reap();
      if (verifyUsed) {
        const us = Math.floor((now() - verifyStart) / 1e6);
        stats.dirs[DDIR_READ].runtimeMs += Math.ceil(us / 1000);
      }
    }
    const unlogged = this.outcome.verifyFailures - FIO_VERIFY_FAILURES_LOGGED;
    if (unlogged > 0) this.outcome.log.push(`fio: ${unlogged} more verify failure${unlogged > 1 ? "s" : ""} not shown`);
    if (this.outcome.verifyFailures > 0) this.outcome.log.push(`fio: pid=${this.threadId}, err=${EILSEQ}/${stats.verror}`);
  }

  /** Checks a block read back (verify); a failure is logged and fails the job with EILSEQ. */
  private check(slot: IoSlot): void {
    const bytes = readBytes(slot.va, slot.length);
    this.outcome.verified++;
    const problem = checkVerifyBlock(bytes, slot.length, slot.offset, this.options.filename);
    if (!problem) return;
    if (++this.outcome.verifyFailures <= FIO_VERIFY_FAILURES_LOGGED) this.outcome.log.push(...problem);
    this.fail(EILSEQ, `func=io_u_queued_complete, error=${EILSEQ_TEXT}`);
  }
}
