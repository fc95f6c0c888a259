// Storport's performance options (StorPortInitializePerfOpts and PERF_CONFIGURATION_DATA):
// what a query reports per structure version, when the options may be set and which need
// DPC redirection, where completions run with and without redirection, and
// StorPortGetStartIoPerfParams.
import { describe, expect, it } from "vitest";
import { SCSIOP_TEST_UNIT_READY } from "../../src/drivers/storage/scsi.js";
import { SCSI_REQUEST_BLOCK, type SRB } from "../../src/drivers/storage/srb.js";
import { STATUS_SUCCESS } from "../../src/ke/ntstatus.js";
import {
  PERF_CONFIGURATION_DATA, STARTIO_PERFORMANCE_PARAMETERS, STOR_PERF_ADV_CONFIG_LOCALITY, STOR_PERF_CONCURRENT_CHANNELS, STOR_PERF_DPC_REDIRECTION,
  STOR_PERF_DPC_REDIRECTION_CURRENT_CPU, STOR_PERF_INTERRUPT_MESSAGE_RANGES, STOR_PERF_NO_SGL, STOR_PERF_OPTIMIZE_FOR_COMPLETION_DURING_STARTIO,
  STOR_PERF_VERSION, STOR_PERF_VERSION_2, STOR_PERF_VERSION_3, STOR_PERF_VERSION_4, STOR_PERF_VERSION_5, STOR_STATUS_INVALID_PARAMETER,
  STOR_STATUS_SUCCESS, STOR_STATUS_UNSUCCESSFUL, StorPortGetStartIoPerfParams, StorPortInitializePerfOpts,
} from "../../src/drivers/storport/index.js";
import { KeGetCurrentProcessorNumber } from "../../src/ke/kernel.js";
import { bootWithMiniport, cdbSrb, sendCdb, submitSrb, unitOf, type TEST_DEVICE_EXTENSION } from "../support/test-miniport.js";

const TUR = [SCSIOP_TEST_UNIT_READY, 0, 0, 0, 0, 0];

/** A PERF_CONFIGURATION_DATA of `Version` with `Flags`. */
function perf(Version: number, Flags: number, extra: Partial<PERF_CONFIGURATION_DATA> = {}): PERF_CONFIGURATION_DATA {
  const p = new PERF_CONFIGURATION_DATA();
  p.Version = Version;
  p.Flags = Flags;
  Object.assign(p, extra);
  return p;
}

describe("StorPortInitializePerfOpts", () => {
  it("with Query set reports the optimizations each PERF_CONFIGURATION_DATA version can select", async () => {
    const queried: Record<number, number> = {};
    await bootWithMiniport({
      onInitialize: (ext) => {
        for (const v of [STOR_PERF_VERSION_2, STOR_PERF_VERSION_3, STOR_PERF_VERSION_4, STOR_PERF_VERSION_5]) {
          const p = perf(v, 0);
          expect(StorPortInitializePerfOpts(ext, true, p)).toBe(STOR_STATUS_SUCCESS);
          queried[v] = p.Flags;
        }
      },
    });
    const v2 = STOR_PERF_DPC_REDIRECTION | STOR_PERF_CONCURRENT_CHANNELS | STOR_PERF_INTERRUPT_MESSAGE_RANGES;
    const v3 = v2 | STOR_PERF_ADV_CONFIG_LOCALITY | STOR_PERF_OPTIMIZE_FOR_COMPLETION_DURING_STARTIO;
    expect(queried[STOR_PERF_VERSION_2]).toBe(v2);
    expect(queried[STOR_PERF_VERSION_3]).toBe(v3);
    expect(queried[STOR_PERF_VERSION_4]).toBe(v3 | STOR_PERF_DPC_REDIRECTION_CURRENT_CPU);
    expect(queried[STOR_PERF_VERSION_5]).toBe(v3 | STOR_PERF_DPC_REDIRECTION_CURRENT_CPU | STOR_PERF_NO_SGL);
    expect(STOR_PERF_VERSION).toBe(STOR_PERF_VERSION_5);
  });

  it("refuses a flag its structure's version does not know (STOR_STATUS_UNSUCCESSFUL) and a NULL PerfConfigData (STOR_STATUS_INVALID_PARAMETER)", async () => {
    const results: number[] = [];
    const m = await bootWithMiniport({
      onInitialize: (ext) => {
        results.push(StorPortInitializePerfOpts(ext, false, perf(STOR_PERF_VERSION_2, STOR_PERF_DPC_REDIRECTION | STOR_PERF_NO_SGL)));
        results.push(StorPortInitializePerfOpts(ext, false, perf(STOR_PERF_VERSION_3, STOR_PERF_DPC_REDIRECTION | STOR_PERF_DPC_REDIRECTION_CURRENT_CPU)));
        results.push(StorPortInitializePerfOpts(ext, false, null as unknown as PERF_CONFIGURATION_DATA));
      },
    });
    expect(results).toEqual([STOR_STATUS_UNSUCCESSFUL, STOR_STATUS_UNSUCCESSFUL, STOR_STATUS_INVALID_PARAMETER]);
    expect(m.adapter().PerfOpts).toBeNull();
  });

  it("may be called from HwStorInitialize and HwStorPassiveInitializeRoutine only: elsewhere STOR_STATUS_UNSUCCESSFUL and nothing changes", async () => {
    const results: Record<string, number> = {};
    const m = await bootWithMiniport({
      onFindAdapter: (ext) => { results.findAdapter = StorPortInitializePerfOpts(ext, false, perf(STOR_PERF_VERSION, STOR_PERF_DPC_REDIRECTION)); },
      onPassiveInitialize: (ext) => { results.passive = StorPortInitializePerfOpts(ext, false, perf(STOR_PERF_VERSION, STOR_PERF_DPC_REDIRECTION)); },
      onStartIo: (ext: TEST_DEVICE_EXTENSION) => {
        if (results.startIo === undefined) results.startIo = StorPortInitializePerfOpts(ext, false, perf(STOR_PERF_VERSION, STOR_PERF_DPC_REDIRECTION | STOR_PERF_CONCURRENT_CHANNELS, { ConcurrentChannels: 2 }));
        return false;
      },
    });
    expect(results).toEqual({ findAdapter: STOR_STATUS_UNSUCCESSFUL, passive: STOR_STATUS_SUCCESS, startIo: STOR_STATUS_UNSUCCESSFUL });
    expect(m.adapter().PerfOpts!.Flags).toBe(STOR_PERF_DPC_REDIRECTION);
  });

  for (const [name, flags] of [
    ["STOR_PERF_INTERRUPT_MESSAGE_RANGES", STOR_PERF_INTERRUPT_MESSAGE_RANGES],
    ["STOR_PERF_OPTIMIZE_FOR_COMPLETION_DURING_STARTIO", STOR_PERF_OPTIMIZE_FOR_COMPLETION_DURING_STARTIO],
    ["STOR_PERF_DPC_REDIRECTION_CURRENT_CPU", STOR_PERF_DPC_REDIRECTION_CURRENT_CPU],
    ["STOR_PERF_ADV_CONFIG_LOCALITY (needs STOR_PERF_INTERRUPT_MESSAGE_RANGES too)", STOR_PERF_ADV_CONFIG_LOCALITY | STOR_PERF_DPC_REDIRECTION],
  ] as const) {
    it(`refuses ${name} without the optimizations it requires`, async () => {
      const m = await bootWithMiniport({ perf: { Version: STOR_PERF_VERSION, Flags: flags } });
      expect(m.miniport.ext.PerfStatus).not.toBe(STOR_STATUS_SUCCESS);
      expect(m.adapter().PerfOpts).toBeNull();
    });
  }
});

describe("where completions run", () => {
  /** A request issued on processor 1 that the miniport completes from a timer (which runs on processor 0). */
  async function completion(flags: number | null): Promise<{ issued: number; miniport: number; irp: number }> {
    const m = await bootWithMiniport(flags === null ? {} : { perf: { Version: STOR_PERF_VERSION, Flags: flags } });
    if (flags !== null) expect(m.miniport.ext.PerfStatus).toBe(STOR_STATUS_SUCCESS);
    m.miniport.config.completion = "timer";
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(async () => {
      const issued = KeGetCurrentProcessorNumber();
      const x = submitSrb(u.DeviceObject!, cdbSrb(u, TUR).srb, null);
      expect(await x.wait()).toBe(STATUS_SUCCESS);
      return { issued, irp: x.completionCpu, srb: x.srb };
    }, { cpu: 1 });
    const done = m.miniport.ext.Completed.find((c) => c.srb === r.srb)!;
    return { issued: r.issued, miniport: done.cpu, irp: r.irp };
  }

  it("with STOR_PERF_DPC_REDIRECTION the request completes on the processor that issued it", async () => {
    const r = await completion(STOR_PERF_DPC_REDIRECTION);
    expect(r.issued).toBe(1);
    expect(r.miniport).toBe(0);
    expect(r.irp).toBe(1);
  });

  it("with STOR_PERF_DPC_REDIRECTION_CURRENT_CPU it completes on the processor that completed it to the port", async () => {
    const r = await completion(STOR_PERF_DPC_REDIRECTION | STOR_PERF_DPC_REDIRECTION_CURRENT_CPU);
    expect(r).toEqual({ issued: 1, miniport: 0, irp: 0 });
  });

  it("without redirection it completes on the processor that completed it to the port", async () => {
    const r = await completion(null);
    expect(r).toEqual({ issued: 1, miniport: 0, irp: 0 });
  });
});

describe("StorPortGetStartIoPerfParams", () => {
  it("gives the concurrent channel of a request in HwStorStartIo (below ConcurrentChannels) and message 0 for an adapter without MSI-X", async () => {
    const params: { status: number; channel: number; message: number; cpu: number }[] = [];
    const m = await bootWithMiniport({
      perf: { Version: STOR_PERF_VERSION, Flags: STOR_PERF_DPC_REDIRECTION | STOR_PERF_CONCURRENT_CHANNELS, ConcurrentChannels: 2 },
      onStartIo: (ext, srb) => {
        const p = new STARTIO_PERFORMANCE_PARAMETERS();
        const status = StorPortGetStartIoPerfParams(ext, srb, p);
        params.push({ status, channel: p.ChannelNumber, message: p.MessageNumber, cpu: KeGetCurrentProcessorNumber() });
      },
    });
    params.length = 0;
    const u = unitOf(m.adapter(), 0);
    await m.exec(() => sendCdb(u, TUR), { cpu: 0 });
    await m.exec(() => sendCdb(u, TUR), { cpu: 1 });
    expect(params).toHaveLength(2);
    for (const p of params) {
      expect(p.status).toBe(STOR_STATUS_SUCCESS);
      expect(p.channel).toBeLessThan(2);
      expect(p.message).toBe(0);
    }
    // Requests from different processors use different channels.
    expect(params[0].channel).not.toBe(params[1].channel);
  });

  it("without performance options succeeds with channel 0 and message 0", async () => {
    const params: { status: number; channel: number; message: number }[] = [];
    const m = await bootWithMiniport({
      onStartIo: (ext, srb) => {
        const p = new STARTIO_PERFORMANCE_PARAMETERS();
        p.ChannelNumber = 7;
        p.MessageNumber = 7;
        params.push({ status: StorPortGetStartIoPerfParams(ext, srb, p), channel: p.ChannelNumber, message: p.MessageNumber });
      },
    });
    expect(params.length).toBeGreaterThan(0);
    for (const p of params) expect(p).toEqual({ status: STOR_STATUS_SUCCESS, channel: 0, message: 0 });
    expect(m.adapter().PerfOpts).toBeNull();
  });

  it("STOR_STATUS_INVALID_PARAMETER for an SRB Storport did not send or a structure whose Size is too small", async () => {
    const results: number[] = [];
    await bootWithMiniport({
      perf: { Version: STOR_PERF_VERSION, Flags: STOR_PERF_DPC_REDIRECTION },
      onStartIo: (ext, srb: SRB) => {
        if (results.length > 0) return;
        results.push(StorPortGetStartIoPerfParams(ext, new SCSI_REQUEST_BLOCK(), new STARTIO_PERFORMANCE_PARAMETERS()));
        const small = new STARTIO_PERFORMANCE_PARAMETERS();
        small.Size = 4;
        results.push(StorPortGetStartIoPerfParams(ext, srb, small));
      },
    });
    expect(results).toEqual([STOR_STATUS_INVALID_PARAMETER, STOR_STATUS_INVALID_PARAMETER]);
  });
});
