// Inspection from the command line: `wdmsim run --inspect "<command>"` prints WinDbg-style
// inspections after the summary, `wdmsim inspect [run options] "<command>"...` prints only
// them; after a bug check they show the machine as it stopped. Exit codes stay 0 ok,
// 1 bug check, 2 bad input.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "wdmsim-inspect-"));

function wdmsim(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, "bin/wdmsim.js"), ...args], { cwd: root, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("wdmsim inspection", () => {
  it("run --inspect prints the summary, then each command after a kd> prompt", () => {
    const r = wdmsim("run", "--factorials", "2", "--dma", "1", "--inspect", "!devnode 0 1", "--inspect", "!drvobj edu 2");
    expect(r.code).toBe(0);
    const summary = r.stdout.indexOf("Simulated time");
    const devnode = r.stdout.indexOf("0: kd> !devnode 0 1");
    const drvobj = r.stdout.indexOf("0: kd> !drvobj edu 2");
    expect(summary).toBeGreaterThan(0);
    expect(devnode).toBeGreaterThan(summary);
    expect(drvobj).toBeGreaterThan(devnode);
    expect(r.stdout.slice(devnode, drvobj)).toContain('ServiceName is "edu"');
    expect(r.stdout.slice(drvobj)).toMatch(/\[0e\] IRP_MJ_DEVICE_CONTROL\s+ffff[0-9a-f]{12}  edu!EduDispatchDeviceControl/);
  });

  it("inspect prints only the inspections: the PCI tree and no leaked IRP after the workload", () => {
    const r = wdmsim("inspect", "--factorials", "2", "--dma", "1", "!pcitree", "!irpfind");
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("Device tree");
    expect(r.stdout).toContain("0: kd> !pcitree");
    expect(r.stdout).toMatch(/00ff 11e81234 \(d=3,  f=0\)/);
    const irpfind = r.stdout.slice(r.stdout.indexOf("0: kd> !irpfind"));
    expect(irpfind).toContain("irpStack: (Mj,Mn)");
    expect(irpfind).not.toMatch(/^ffff[0-9a-f]{12} \[/m);
  });

  it("--json adds each command and its output to the summary", () => {
    const r = wdmsim("run", "--json", "--factorials", "1", "--inspect", "!devstack \\Device\\Edu0");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.workload.ok).toBe(true);
    expect(summary.inspect).toHaveLength(1);
    expect(summary.inspect[0].command).toBe("!devstack \\Device\\Edu0");
    expect(summary.inspect[0].output).toMatch(/^> ffff[0-9a-f]{12}  \\Driver\\edu/m);
  });

  it("after a bug check the analysis goes to stderr, the inspections show the machine as it stopped, and the exit code is 1", () => {
    // Register reads cost 1,000,000 cycles (333 us at 3 GHz): the edu ISR overruns a 100 us DPC/ISR watchdog.
    const file = join(tmp, "slow-registers.json");
    const machine = JSON.parse(readFileSync(join(root, "firmware/machines/default.json"), "utf8"));
    machine.kernel = { verifier: true, dpcWatchdogUs: 100, costs: { READ_REGISTER: 1_000_000 } };
    writeFileSync(file, JSON.stringify(machine));
    const r = wdmsim("inspect", "--machine", file, "!irpfind");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("DPC_WATCHDOG_VIOLATION (133)");
    // The request the ISR was serving is still pending at the edu FDO; the prompt names the processor that stopped.
    expect(r.stdout).toContain("0: kd> !irpfind");
    expect(r.stdout).toMatch(/^ffff[0-9a-f]{12} \[\S+\] irpStack: \( e, 0\)  ffff[0-9a-f]{12} \[ \\Driver\\edu\]$/m);
  });

  it("a bad command is refused before anything runs, with exit code 2", () => {
    for (const args of [["run", "--inspect", "!frobnicate"], ["inspect", "!devnode"], ["inspect", "!poolused 6"]]) {
      const r = wdmsim(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(`bad inspection command "${args[args.length - 1]}"`);
    }
    expect(wdmsim("run", "--inspect", "!frobnicate").stderr).toContain("the commands are !devnode");
  });

  it("inspect without a command, and a command naming nothing, exit 2 with a message", () => {
    const none = wdmsim("inspect");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("inspect needs at least one command");
    const missing = wdmsim("inspect", "--factorials", "1", "!devobj \\Device\\Nope");
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain("0: kd> !devobj \\Device\\Nope");
    expect(missing.stderr).toContain('no device is named "\\Device\\Nope"');
  });
});
