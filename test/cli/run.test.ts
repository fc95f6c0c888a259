// The main job as a user runs it: `wdmsim run` with --json, --trace, --seed, and the
// errors it gives for bad flags and machine files.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "wdmsim-cli-"));

function wdmsim(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, "bin/wdmsim.js"), ...args], { cwd: root, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("wdmsim run", () => {
  it("prints the device tree, the workload, counts, timing and times, and exits 0", () => {
    const r = wdmsim("run");
    expect(r.code).toBe(0);
    for (const text of ["Device tree", "PCI\\VEN_1234&DEV_11E8&SUBSYS_11001AF4&REV_10", "[edu > pci]", "identification             0x010000ED",
      "24/24 correct", "16/16 verified byte for byte", "result                     OK", "MSIs", "ISRs", "DPCs", "ISR duration",
      "interrupt to DPC", "Simulated time", "host time"]) {
      expect(r.stdout).toContain(text);
    }
  });

  it("--workload toaster plugs in, uses and removes toasters, printing the device tree at each step, and exits 0", () => {
    const r = wdmsim("run", "--workload", "toaster", "--inspect", "!devnode 0 1 busenum");
    expect(r.code).toBe(0);
    for (const text of ["plugged in toasters 1, 2, 3", "[clsupper > devupper > toaster > clslower > devlower > busenum]", "3/3 toasters verified",
      "unplugged toaster 1 while it was open (surprise removal)", "ejected toaster 2", "0 IRPs, 0 toaster device objects, 0 pool bytes, drivers loaded: none",
      "result                     OK", "kd> !devnode 0 1 busenum", 'ServiceName is "busenum"']) {
      expect(r.stdout).toContain(text);
    }
  });

  it("--workload toaster with the same seed writes byte-identical traces", () => {
    const [a, b] = [join(tmp, "toaster-a.json"), join(tmp, "toaster-b.json")];
    expect(wdmsim("run", "--workload", "toaster", "--seed", "5", "--trace", a).code).toBe(0);
    expect(wdmsim("run", "--workload", "toaster", "--seed", "5", "--trace", b).code).toBe(0);
    expect(readFileSync(b, "utf8")).toBe(readFileSync(a, "utf8"));
    expect(readFileSync(a, "utf8")).toContain("IRP_MN_SURPRISE_REMOVAL");
  });

  it("--workload ioctl runs IOCTLAPP and SIoctl on the checked machine; --debug-output shows the driver's KdPrint lines", () => {
    const r = wdmsim("run", "--workload", "ioctl", "--debug-output");
    expect(r.code).toBe(0);
    for (const text of ['machine "checked"', "Calling DeviceIoControl METHOD_NEITHER", "    OutBuffer (38): This String is from Device Driver !!!",
      "    Number of bytes transfered from OutBuffer: 100", "driver removed             yes", "result                     OK",
      "\tSIOCTL.SYS: Called IOCTL_SIOCTL_METHOD_BUFFERED\n",
      "\tSIOCTL.SYS: \tData from User :This String is from User Application; using METHOD_BUFFERED.\n"]) {
      expect(r.stdout).toContain(text);
    }
  });

  it("--workload event runs EventTest and event.sys on the checked machine", () => {
    const r = wdmsim("run", "--workload", "event", "--debug-output");
    expect(r.code).toBe(0);
    for (const text of ["Event signalled.", "Event occurred.", "driver removed             yes", "result                     OK", "EVENT.SYS: ==> CustomTimerDPC"]) {
      expect(r.stdout).toContain(text);
    }
  });

  it("--workload cancel runs the cancel sample's program and driver on the checked machine", () => {
    const r = wdmsim("run", "--workload", "cancel", "--debug-output");
    expect(r.code).toBe(0);
    for (const text of ["Number of threads : 2", "read: 4 bytes", "driver removed             yes", "result                     OK", "CANCEL.SYS: CsampUnload Exit"]) {
      expect(r.stdout).toContain(text);
    }
  });

  it("--workload regfltr runs regctrl and RegFltr on the checked machine; --debug-output shows the callbacks", () => {
    const r = wdmsim("run", "--workload", "regfltr", "--debug-output");
    expect(r.code).toBe(0);
    for (const text of ["Callback version is 1.1", "\tCreate Open V1 Sample: Succeeded", "Capture Sample succeeded.", "kernel-mode samples        11/11 succeeded",
      "driver removed             yes", "result                     OK", "RegFltr: \tCallback: Create key _RegFltrKey blocked."]) {
      expect(r.stdout).toContain(text);
    }
  });

  it("an unknown --workload names the choices and exits 2", () => {
    const r = wdmsim("run", "--workload", "kettle");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--workload takes one of edu, toaster, fio, ioctl, event, cancel, regfltr, race-cancel, race-count, race-remove, not "kettle"');
  });

  it("--json prints one object with the same content, and --trace writes a Chrome trace Perfetto can read", () => {
    const file = join(tmp, "a.json");
    const r = wdmsim("run", "--json", "--trace", file);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.workload.ok).toBe(true);
    expect(summary.deviceTree.children[0].children[0].driver).toBe("edu");
    expect(summary.report.counts.isrs).toBeGreaterThan(0);
    expect(summary.report.counts.isrs).toBe(summary.report.counts.dpcs);
    expect(summary.report.timing.interruptToDpc.count).toBe(summary.report.counts.dpcs);
    const trace = JSON.parse(readFileSync(file, "utf8"));
    const phases = new Set(trace.traceEvents.map((e: { ph: string; cat?: string }) => `${e.ph}:${e.cat ?? ""}`));
    for (const p of ["X:isr", "X:dpc", "b:irp", "e:irp", "X:dma", "s:flow", "f:flow"]) expect(phases).toContain(p);
    // Every event names a process and thread the metadata names, and times are in microseconds.
    for (const e of trace.traceEvents) {
      expect(typeof e.pid).toBe("number");
      if (e.ph !== "M") expect(Number.isFinite(e.ts)).toBe(true);
    }
  });

  it("the same seed gives a byte-identical trace; another seed gives another one", () => {
    const [a, b, c] = ["1", "1", "2"].map((seed, i) => {
      const file = join(tmp, `seed-${i}.json`);
      expect(wdmsim("run", "--seed", seed, "--trace", file).code).toBe(0);
      return readFileSync(file, "utf8");
    });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it("an unknown flag is refused with the usage text and exit code 2", () => {
    const r = wdmsim("run", "--frobnicate");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--frobnicate");
    expect(r.stderr).toContain("Usage: wdmsim");
  });

  it("a flag with a bad value names the flag", () => {
    const r = wdmsim("run", "--seed", "12abc");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--seed takes a whole number");
  });

  it("--max-sim-time stops the run where simulated time reaches it: exit 3, with what was still waiting; a bad duration is refused naming the flag", () => {
    const r = wdmsim("run", "--max-sim-time", "50us");
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^wdmsim: the run reached its simulated-time limit \(50 us\); stopped$/m);
    for (const heading of ["Threads waiting:", "Requests not completed:", "DPCs queued:", "Timers armed:"]) expect(r.stderr).toContain(heading);
    const bad = wdmsim("run", "--timeout", "soon");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout takes a positive duration such as 10s, 250ms, 40us or 5m, not "soon"');
  });

  it("a driver that bug checks stops the run: the !analyze -v style report names the code, arguments, driver, routine, IRQL and CPU, and the exit code is 1", () => {
    // Register reads cost 1,000,000 cycles (333 us at 3 GHz): the edu ISR overruns a 100 us DPC/ISR watchdog.
    const file = join(tmp, "slow-registers.json");
    const machine = JSON.parse(readFileSync(join(root, "firmware/machines/default.json"), "utf8"));
    machine.kernel = { verifier: true, dpcWatchdogUs: 100, costs: { READ_REGISTER: 1_000_000 } };
    writeFileSync(file, JSON.stringify(machine));
    const r = wdmsim("run", "--machine", file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("DPC_WATCHDOG_VIOLATION (133)");
    expect(r.stderr).toMatch(/Arg1: 00000000`00000000, 0: a single DPC or ISR/);
    expect(r.stderr).toContain("MODULE_NAME:   edu");
    expect(r.stderr).toContain("SYMBOL_NAME:   edu!EduInterruptMessageService");
    expect(r.stderr).toMatch(/CURRENT_IRQL: +5/);
    expect(r.stderr).toMatch(/PROCESSOR: +0/);
    expect(r.stderr).toContain("LAST_EVENTS:");
  });

  it("a malformed machine file is refused naming the file, the JSON path and the rule", () => {
    const file = join(tmp, "bad.json");
    const machine = JSON.parse(readFileSync(join(root, "firmware/machines/default.json"), "utf8"));
    machine.cpu.count = 0;
    writeFileSync(file, JSON.stringify(machine));
    const r = wdmsim("run", "--machine", file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bad.json");
    expect(r.stderr).toContain("/cpu/count");
    expect(r.stderr).toContain("minimum");
  });

  it("a machine file that is not JSON is refused", () => {
    const file = join(tmp, "broken.json");
    writeFileSync(file, "{ not json");
    const r = wdmsim("run", "--machine", file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not valid JSON");
  });
});
