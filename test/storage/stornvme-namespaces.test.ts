/**
 * Several namespaces and whole-disk data integrity on the storage machine: each namespace
 * is its own logical unit and its own disk (\\.\PhysicalDrive0, 1, ...) with its own
 * blocks; fio's verify job writes every block of a namespace and reads each back, with the
 * IOMMU translating the controller's DMA and without it; a seed gives the same report.
 */
import { describe, expect, it } from "vitest";
import type { Machine } from "../../src/machine/machine.js";
import { runFio } from "../../src/workloads/fio/fio.js";
import { resolveJobFile } from "../../src/workloads/fio/options.js";
import { formatFioJson } from "../../src/workloads/fio/report-json.js";
import { IOCTL_DISK_GET_LENGTH_INFO } from "../../src/drivers/storage/ntdddisk.js";
import { CloseHandle, DeviceIoControl } from "../../src/io/usermode.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boot } from "../../src/pnp/boot.js";
import { Machine as MachineClass } from "../../src/machine/machine.js";
import { loadMachine, resolveMachineFile } from "../../src/machine/firmwareFiles.js";
import { STORPORT } from "../../src/drivers/storport/adapter.js";
import { kernelOf } from "../support/kernel-harness.js";
import { IO } from "../../src/io/manager.js";
import { adapterOf, bootStorage, openDisk, pattern, readAt, writeAt, type StorageTweaks } from "../support/storage-harness.js";

const BLOCK = 4096;

async function lengthOf(h: number): Promise<number> {
  const out = new Uint8Array(8);
  const r = await DeviceIoControl(h, IOCTL_DISK_GET_LENGTH_INFO, null, 0, out, 8);
  expect(r.ok).toBe(true);
  return Number(new DataView(out.buffer).getBigUint64(0, true));
}

describe("several namespaces", () => {
  it("each namespace is a logical unit (LUN = NSID - 1) and a disk of its own, PhysicalDrive0 and PhysicalDrive1, with its own blocks", async () => {
    const machine = await bootStorage({ nvme: { namespaceCount: 2, namespaceBlocks: 2048 } });
    const units = [...adapterOf(machine).Units.values()].map((u) => u.Lun).sort();
    expect(units).toEqual([0, 1]);
    const r = await machine.runProgram("two-disks", async () => {
      const a = await openDisk(0);
      const b = await openDisk(1);
      const lengths = [await lengthOf(a), await lengthOf(b)];
      const wa = await writeAt(a, 64 * BLOCK, pattern(1, 2 * BLOCK));
      const wb = await writeAt(b, 64 * BLOCK, pattern(2, 2 * BLOCK));
      const ra = await readAt(a, 64 * BLOCK, 2 * BLOCK);
      const rb = await readAt(b, 64 * BLOCK, 2 * BLOCK);
      await CloseHandle(a);
      await CloseHandle(b);
      return { lengths, wa, wb, ra, rb };
    });
    expect(r.lengths).toEqual([2048 * BLOCK, 2048 * BLOCK]);
    expect(r.wa.ok && r.wb.ok).toBe(true);
    expect(Buffer.from(r.ra.data).equals(Buffer.from(pattern(1, 2 * BLOCK)))).toBe(true);
    expect(Buffer.from(r.rb.data).equals(Buffer.from(pattern(2, 2 * BLOCK)))).toBe(true);
  });
});

describe("two controllers", () => {
  it("each is an adapter of its own (RaidPort0, RaidPort1) with a disk of its own", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wdmsim-two-nvme-"));
    const file = join(dir, "two-nvme.json");
    const doc = JSON.parse(readFileSync(resolveMachineFile("storage"), "utf8"));
    const nvme = doc.pci.slots.find((s: { device: string }) => s.device === "nvme");
    nvme.params = { ...nvme.params, namespaceBlocks: 2048 };
    doc.pci.slots.push({ address: "00:1c.1", device: "pcie-root-port" }, { ...nvme, address: "02:00.0", behind: "00:1c.1" });
    doc.cpu.count = 2;
    delete doc.$schema;
    writeFileSync(file, JSON.stringify(doc));
    const machine = await boot(MachineClass.fromDescription(loadMachine(file)));
    rmSync(dir, { recursive: true });
    const adapters = [...STORPORT(kernelOf(machine)).adapters.values()];
    expect(adapters.length).toBe(2);
    const r = await machine.runProgram("two-controllers", async () => {
      const out = [];
      for (const n of [0, 1]) {
        const h = await openDisk(n);
        out.push({ w: await writeAt(h, 0, pattern(10 + n, BLOCK)), length: await lengthOf(h) });
        await CloseHandle(h);
      }
      for (const n of [0, 1]) {
        const h = await openDisk(n);
        out.push({ r: await readAt(h, 0, BLOCK) });
        await CloseHandle(h);
      }
      return out;
    });
    expect(r[0].length).toBe(2048 * BLOCK);
    expect(Buffer.from(r[2].r!.data).equals(Buffer.from(pattern(10, BLOCK)))).toBe(true);
    expect(Buffer.from(r[3].r!.data).equals(Buffer.from(pattern(11, BLOCK)))).toBe(true);
    expect(adapters.map((a) => a.DeviceObject.name).sort()).toEqual(["\\Device\\RaidPort0", "\\Device\\RaidPort1"]);
    const links = IO(kernelOf(machine)).symbolicLinks;
    expect([links.get("\\dosdevices\\physicaldrive0"), links.get("\\dosdevices\\physicaldrive1")]).toEqual(["\\device\\harddisk0\\dr0", "\\device\\harddisk1\\dr1"]);
  });
});

describe("fio verify over a whole namespace", () => {
  const JOB = "[verify]\nfilename=\\\\.\\PhysicalDrive0\nioengine=windowsaio\ndirect=1\nthread\nrw=randwrite\nbs=4k\niodepth=16\nverify=crc32c\n";
  const SMALL: StorageTweaks = { cpus: 2, nvme: { namespaceBlocks: 1024 } };

  async function verify(tweaks: StorageTweaks): Promise<{ machine: Machine; json: string; doc: any }> {
    const machine = await bootStorage(tweaks);
    const result = await runFio(machine, resolveJobFile(JOB, "verify.fio", machine.description.cpu.count));
    expect(result.ok).toBe(true);
    const json = formatFioJson(result);
    return { machine, json, doc: JSON.parse(json) };
  }

  it("writes every block once and reads each back intact, through the IOMMU and without it", async () => {
    for (const noIommu of [false, true]) {
      const { doc } = await verify({ ...SMALL, noIommu });
      const job = doc.jobs[0];
      expect(job.error).toBe(0);
      expect(job.write.total_ios).toBe(1024);
      expect(job.write.io_bytes).toBe(1024 * BLOCK);
      expect(job.read.total_ios).toBe(1024);
    }
  });

  it("gives byte-identical JSON for the same seed and a different one for another seed", async () => {
    const a = await verify({ ...SMALL, seed: 7 });
    const b = await verify({ ...SMALL, seed: 7 });
    const c = await verify({ ...SMALL, seed: 8 });
    expect(a.json).toBe(b.json);
    expect(c.json).not.toBe(a.json);
  });
});
