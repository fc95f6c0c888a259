// WinDbg-style inspection of a booted machine: !devnode, !devstack, !devobj, !drvobj, !irp,
// !irpfind, !pcitree, !dpcs and !poolused print what the kernel holds, in the debugger's
// layout, without changing the machine; bad commands and arguments say what to fix.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, type IRP, type DEVICE_OBJECT, inspect, InspectError, formatPointer,
  IoAllocateIrp, IoCallDriver, IoGetNextIrpStackLocation, IoMarkIrpPending, IoSetCompletionRoutine, IoSetCancelRoutine, IoCancelIrp,
  IoReleaseCancelSpinLock, IRP_MJ_DEVICE_CONTROL, STATUS_PENDING, STATUS_SUCCESS, CTL_CODE, FILE_DEVICE_UNKNOWN, METHOD_BUFFERED, FILE_ANY_ACCESS,
  KDPC, KeInitializeDpc, KeInsertQueueDpc, KeSetTargetProcessorDpc, DISPATCH_LEVEL,
  ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE,
} from "../../src/index.js";
import { asDriver, bootDefault, buildStack, kernelOf } from "../support/kernel-harness.js";
import { IO } from "../../src/io/manager.js";
import { MM } from "../../src/mm/manager.js";

/** A pointer as the extension commands print it: 16 hex digits, no backtick. */
const p16 = (address: number) => formatPointer(address).replace("`", "");

/** The message of the InspectError `command` throws. */
function inspectError(machine: Machine, command: string): string {
  try {
    inspect(machine, command);
  } catch (e) {
    expect(e).toBeInstanceOf(InspectError);
    return (e as Error).message;
  }
  throw new Error(`"${command}" did not fail`);
}

describe("inspection of the default machine", () => {
  let machine: Machine;
  let eduFdo: DEVICE_OBJECT;
  beforeAll(async () => {
    machine = await bootDefault();
    eduFdo = IO(kernelOf(machine)).resolve("\\Device\\Edu0")!;
  });

  it("!devnode 0 1 lists the tree from the root: the PCI root bus (service pci) and below it the edu device (service edu), both started", () => {
    const out = inspect(machine, "!devnode 0 1").split("\n");
    expect(out[0]).toMatch(/^Dumping IopRootDeviceNode \(= 0x/);
    const at = (text: string) => out.findIndex((l) => l.includes(text));
    const indent = (i: number) => out[i].length - out[i].trimStart().length;
    const root = at('InstancePath is "HTREE\\ROOT\\0"');
    const bus = at('InstancePath is "ACPI\\PNP0A08\\0"');
    // pci.sys's instance ID is the device/function number; the PnP manager puts the parent's prefix before it.
    const edu = at('InstancePath is "PCI\\VEN_1234&DEV_11E8&SUBSYS_11001AF4&REV_10\\');
    expect(out[edu]).toMatch(/\\\d+&[0-9a-f]+&0&18"$/);
    expect(root).toBeGreaterThan(0);
    expect(bus).toBeGreaterThan(root);
    expect(edu).toBeGreaterThan(bus);
    // Each child is indented one level (two columns) below its parent.
    expect(indent(bus)).toBe(indent(root) + 2);
    expect(indent(edu)).toBe(indent(bus) + 2);
    expect(out[bus + 1].trim()).toBe('ServiceName is "pci"');
    expect(out[bus + 2].trim()).toBe("State = DeviceNodeStarted (0x308)");
    expect(out[edu + 1].trim()).toBe('ServiceName is "edu"');
    expect(out[edu + 2].trim()).toBe("State = DeviceNodeStarted (0x308)");
    // Each node names its PDO: the edu node's PDO is the bottom of the edu stack.
    expect(out[edu - 1].trim()).toMatch(new RegExp(`^DevNode 0x\\S+ for PDO 0x${p16(eduFdo.lowerDevice!.address)}$`));
  });

  it("!devnode 0 with a service shows only the nodes that service drives; 0x10 only nodes not started", () => {
    const edu = inspect(machine, "!devnode 0 1 edu");
    expect(edu).toContain('ServiceName is "edu"');
    expect(edu).not.toContain("ACPI\\PNP0A08");
    expect(inspect(machine, "!devnode 0 11")).not.toContain("DevNode"); // every node is started
  });

  it("!devstack of the edu FDO shows the edu FDO above the PCI PDO with their real addresses, the FDO marked", () => {
    const pdo = eduFdo.lowerDevice!;
    const lines = inspect(machine, `!devstack ${p16(eduFdo.address)}`).split("\n");
    expect(lines[0]).toMatch(/!DevObj\s+!DrvObj\s+!DevExt\s+ObjectName/);
    expect(lines[1]).toMatch(new RegExp(`^> ${p16(eduFdo.address)}  \\\\Driver\\\\edu\\s+\\S+\\s+Edu0$`));
    expect(lines[2]).toMatch(new RegExp(`^  ${p16(pdo.address)}  \\\\Driver\\\\pci\\s`));
    expect(lines[3]).toMatch(/^!DevNode \S+ :$/);
    expect(lines[4]).toMatch(/^  DeviceInst is "PCI\\VEN_1234&DEV_11E8&SUBSYS_11001AF4&REV_10\\\d+&[0-9a-f]+&0&18"$/);
    expect(lines[5]).toBe('  ServiceName is "edu"');
    // From the PDO the same stack is shown with the PDO marked instead.
    const fromPdo = inspect(machine, `!devstack ${p16(pdo.address)}`).split("\n");
    expect(fromPdo[1].startsWith(" ")).toBe(true);
    expect(fromPdo[2].startsWith(`> ${p16(pdo.address)}`)).toBe(true);
  });

  it("addresses are read as WinDbg reads them (backtick, 0x, lower-half form) and devices by name with or without \\Device\\", () => {
    const expected = inspect(machine, `!devstack ${p16(eduFdo.address)}`);
    const backtick = formatPointer(eduFdo.address);
    expect(backtick).toContain("`");
    for (const arg of [backtick, `0x${backtick}`, `0x${p16(eduFdo.address)}`, eduFdo.address.toString(16), "\\Device\\Edu0", "Edu0"]) {
      expect(inspect(machine, `!devstack ${arg}`)).toBe(expected);
    }
  });

  it("!devobj shows the device's driver, type, flags, characteristics and the device it is attached to", () => {
    const out = inspect(machine, "!devobj \\Device\\Edu0").split("\n");
    expect(out[0]).toBe(`Device object (${p16(eduFdo.address)}) is for:`);
    expect(out[1]).toBe(` Edu0 \\Driver\\edu DriverObject ${p16(eduFdo.DriverObject.address)}`);
    expect(out[2]).toBe(`Current Irp 00000000 Type 00000022 Flags ${eduFdo.Flags.toString(16).padStart(8, "0")}`);
    expect(out).toContain("Characteristics (0x00000100)  FILE_DEVICE_SECURE_OPEN");
    expect(out).toContain(`AttachedTo (Lower) ${p16(eduFdo.lowerDevice!.address)} \\Driver\\pci`);
  });

  it("!drvobj edu 2 lists every dispatch routine with the code address bug checks use; unset entries are nt!IopInvalidDeviceRequest", () => {
    const k = kernelOf(machine);
    const out = inspect(machine, "!drvobj edu 2").split("\n");
    expect(out[0]).toBe(`Driver object (${p16(eduFdo.DriverObject.address)}) is for:`);
    expect(out[1]).toBe(" \\Driver\\edu");
    const dispatch = out.filter((l) => /^\[[0-9a-f]{2}\] IRP_MJ_/.test(l));
    expect(dispatch).toHaveLength(0x1C);
    const code = (driver: string, routine: string) => p16(MM(k).codeAddress(driver, routine));
    expect(dispatch[0x0E]).toMatch(new RegExp(`^\\[0e\\] IRP_MJ_DEVICE_CONTROL\\s+${code("edu", "EduDispatchDeviceControl")}  edu!EduDispatchDeviceControl$`));
    expect(dispatch[0x1B]).toMatch(/^\[1b\] IRP_MJ_PNP\s+\S+  edu!EduDispatchPnp$/);
    expect(dispatch[0x01]).toMatch(new RegExp(`^\\[01\\] IRP_MJ_CREATE_NAMED_PIPE\\s+${code("nt", "IopInvalidDeviceRequest")}  nt!IopInvalidDeviceRequest$`));
    expect(out).toContain(`AddDevice:     ${code("edu", "EduAddDevice")}  edu!EduAddDevice`);
    expect(out).toContain("DriverStartIo: 00000000");
    // Flag 2 alone leaves out the device list; the default (1) shows it, by name or address, with or without \Driver\.
    expect(out).not.toContain("Device Object list:");
    for (const arg of ["edu", "\\Driver\\edu", "\\driver\\EDU", p16(eduFdo.DriverObject.address)]) {
      const list = inspect(machine, `!drvobj ${arg}`).split("\n");
      expect(list[list.indexOf("Device Object list:") + 1]).toBe(p16(eduFdo.address));
    }
  });

  it("!pcitree shows the edu function 1234:11e8 at bus 0, device 3, function 0 with its class", () => {
    const out = inspect(machine, "!pcitree").split("\n");
    expect(out[0]).toMatch(/^Bus 0x0 \(FDO Ext \S+\)$/);
    expect(out[1]).toMatch(/^  00ff 11e81234 \(d=3,  f=0\) devext \S+ Unclassified Device\//);
    expect(out[out.length - 1]).toBe("Total PCI Root busses processed = 1");
  });

  it("!poolused shows a tag with the allocations still outstanding and their bytes, nonpaged and paged", async () => {
    const blocks = await machine.exec(() => asDriver("pooltest", "Allocate", () => {
      const a = [1, 2, 3].map(() => ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 100, "Insp"));
      ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 5000, "Insp");
      ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 40, "InsQ");
      return a;
    }));
    const row = (out: string, tag: string) => out.split("\n").find((l) => l.startsWith(` ${tag} `));
    const out = inspect(machine, "!poolused");
    expect(out).toMatch(/Sorting by\s+Tag/);
    expect(row(out, "Insp")).toMatch(/^ Insp\s+3\s+300\s+1\s+5000 Allocated by pooltest$/);
    await machine.exec(() => ExFreePoolWithTag(blocks[0], "Insp"));
    expect(row(inspect(machine, "!poolused 0 Insp"), "Insp")).toMatch(/^ Insp\s+2\s+200\s+1\s+5000/);
    // A pattern keeps only the tags that match; ? is one character.
    const pattern = inspect(machine, "!poolused 0 Ins?");
    expect(row(pattern, "InsQ")).toMatch(/^ InsQ\s+1\s+40\s+0\s+0/);
    expect(row(pattern, "Devi")).toBeUndefined();
    // Verbose shows allocations and frees so far as well.
    expect(row(inspect(machine, "!poolused 1 Insp"), "Insp")).toMatch(/^ Insp\s+3\s+1\s+2\s+200\s+1\s+0\s+1\s+5000/);
  });

  it("!dpcs shows a DPC queued at raised IRQL on its processor, with its routine; once it has run the queue is empty", async () => {
    const k = kernelOf(machine);
    const shown = await machine.exec(() => {
      const here = new KDPC();
      const there = new KDPC();
      asDriver("dpctest", "Queue", () => {
        KeInitializeDpc(here, function InspectHereDpc() {}, null);
        KeInitializeDpc(there, function InspectThereDpc() {}, null);
      });
      KeSetTargetProcessorDpc(there, 1);
      KeInsertQueueDpc(here, null, null);
      KeInsertQueueDpc(there, null, null);
      return { all: inspect(machine, "!dpcs"), cpu1: inspect(machine, "!dpcs 1") };
    }, { cpu: 0, irql: DISPATCH_LEVEL });
    const code = (routine: string) => p16(MM(k).codeAddress("dpctest", routine));
    const all = shown.all.split("\n");
    expect(all[0]).toBe("CPU Type      KDPC       Function");
    expect(all).toContainEqual(expect.stringMatching(new RegExp(`^ 0: Normal  : 0x\\S+ 0x${code("InspectHereDpc")} dpctest!InspectHereDpc$`)));
    expect(all).toContainEqual(expect.stringMatching(new RegExp(`^ 1: Normal  : 0x\\S+ 0x${code("InspectThereDpc")} dpctest!InspectThereDpc$`)));
    expect(shown.cpu1).not.toContain("InspectHereDpc");
    expect(shown.cpu1).toContain("InspectThereDpc");
    // CPU 1 runs its queue before it runs another thread.
    await machine.exec(() => 0, { cpu: 1 });
    expect(inspect(machine, "!dpcs")).not.toContain("Inspect");
  });

  it("reading changes nothing: no processor time, no device event, no bus access, no IRQL change", () => {
    const k = kernelOf(machine);
    const state = () => JSON.stringify({
      times: k.processors.map((p) => p.time), irqls: k.processors.map((p) => p.irql), now: machine.nowPs,
      next: machine.core.nextEventPs, counters: machine.core.counters(), notes: k.recorder.lastNotes(),
    });
    const before = state();
    for (const c of ["!devnode 0 1", "!devstack Edu0", "!devobj Edu0", "!drvobj edu 7", "!irpfind", "!pcitree", "!dpcs", "!poolused 1"]) inspect(machine, c);
    expect(state()).toBe(before);
  });

  it("bad commands and arguments give an InspectError that says what to fix", () => {
    expect(inspectError(machine, "!bogus")).toMatch(/unknown command "!bogus".*!devnode/);
    expect(inspectError(machine, "devnode 0 1")).toContain("start with !");
    expect(inspectError(machine, "!devnode")).toContain("needs an address");
    expect(inspectError(machine, "!devnode zz")).toContain('"zz" is not an address');
    expect(inspectError(machine, "!devnode 0 1 edu extra")).toContain("too many arguments");
    expect(inspectError(machine, "!devstack \\Device\\NoSuchDevice")).toContain('no device is named "\\Device\\NoSuchDevice"');
    expect(inspectError(machine, "!devobj 1234")).toContain("not the address of a device object");
    expect(inspectError(machine, "!devobj 0001`00000000`0000")).toContain("not a canonical address");
    expect(inspectError(machine, "!drvobj nosuch")).toMatch(/no driver \\Driver\\nosuch is loaded \(loaded drivers: .*\\Driver\\edu/);
    expect(inspectError(machine, "!drvobj edu 9")).toContain("Flags must be a hexadecimal number up to 0x7");
    expect(inspectError(machine, "!irp")).toContain("needs an IRP address");
    expect(inspectError(machine, "!irp 1000")).toContain("not the address of an allocated IRP");
    expect(inspectError(machine, "!irpfind 0 0 color 5")).toContain('unknown criteria "color"');
    expect(inspectError(machine, "!dpcs 7")).toContain("processor 7 does not exist");
    expect(inspectError(machine, "!poolused 6")).toContain("cannot be used together");
    expect(inspectError(machine, "!poolused 0 Ab")).toContain("must be four characters");
    expect(inspectError(machine, "!pcitree 1")).toContain("too many arguments");
  });
});

describe("!irpfind and !irp on a pending IRP", () => {
  let machine: Machine;
  let held: { irp: IRP; top: DEVICE_OBJECT; bottom: DEVICE_OBJECT };
  beforeAll(async () => {
    machine = await bootDefault();
    // Top passes the request down with a completion routine; the bottom marks it pending, sets a cancel routine and keeps it.
    held = await machine.exec(async () => {
      const [top, bottom] = await buildStack(2, "irpinsp");
      bottom.DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = function HoldRequest(_d, irp) {
        IoMarkIrpPending(irp);
        IoSetCancelRoutine(irp, function LeaveCancelled(_dev, i) {
          IoReleaseCancelSpinLock(i.CancelIrql);
        });
        return STATUS_PENDING;
      };
      top.DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = function PassWithRoutine(_d, irp) {
        const next = IoGetNextIrpStackLocation(irp);
        next.MajorFunction = IRP_MJ_DEVICE_CONTROL;
        next.Parameters.DeviceIoControl.IoControlCode = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS);
        IoSetCompletionRoutine(irp, function TopCompletion() { return STATUS_SUCCESS; }, null, true, true, false);
        return IoCallDriver(bottom, irp);
      };
      const irp = IoAllocateIrp(top.StackSize, false)!;
      const s = IoGetNextIrpStackLocation(irp);
      s.MajorFunction = IRP_MJ_DEVICE_CONTROL;
      s.Parameters.DeviceIoControl.IoControlCode = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS);
      s.Parameters.DeviceIoControl.OutputBufferLength = 0x20;
      await IoCallDriver(top, irp);
      return { irp, top, bottom };
    });
  });

  it("!irpfind lists the pending IRP with its current location's function, device and driver", () => {
    const lines = inspect(machine, "!irpfind").split("\n");
    expect(lines).toContain("  Irp            [ Thread ]         irpStack: (Mj,Mn)   DevObj          [Driver]         MDL Process");
    const line = lines.find((l) => l.startsWith(p16(held.irp.address)));
    expect(line).toBe(`${p16(held.irp.address)} [0000000000000000] irpStack: ( e, 0)  ${p16(held.bottom.address)} [ ${held.bottom.DriverObject.DriverName}]`);
    // Criteria keep only the IRPs with a stack location on that device (either of the two here, not the edu FDO).
    expect(inspect(machine, `!irpfind 0 0 device ${p16(held.bottom.address)}`)).toContain(p16(held.irp.address));
    expect(inspect(machine, `!irpfind 0 0 device ${p16(held.top.address)}`)).toContain(p16(held.irp.address));
    const edu = IO(kernelOf(machine)).resolve("\\Device\\Edu0")!;
    expect(inspect(machine, `!irpfind 0 0 device ${p16(edu.address)}`)).not.toContain(p16(held.irp.address));
    // A restart address past the IRP skips it.
    expect(inspect(machine, `!irpfind 0 ${p16(held.irp.address + 0x10)}`)).not.toContain(p16(held.irp.address));
  });

  it("!irp shows both stack locations, the current one (the bottom driver's) marked, with the completion routine the top driver set", () => {
    const k = kernelOf(machine);
    const out = inspect(machine, `!irp ${formatPointer(held.irp.address)}`).split("\n");
    const current = held.irp.address + 0xD0; // location 1: the IRP header is 0xD0 bytes, each location 0x48
    expect(out[0]).toBe(`Irp is active with 2 stacks 1 is current (= 0x${p16(current)})`);
    expect(out[1]).toBe(" No Mdl: No System Buffer: Thread 00000000:  Irp stack trace.");
    expect(out.filter((l) => l.startsWith(">"))).toEqual([">[IRP_MJ_DEVICE_CONTROL(e), N/A(0)]"]);
    const marked = out.indexOf(">[IRP_MJ_DEVICE_CONTROL(e), N/A(0)]");
    const topDriver = held.top.DriverObject.serviceName;
    const routine = p16(MM(k).codeAddress(topDriver, "TopCompletion"));
    // Control c1: the routine runs on success (0x40) and on error (0x80), and the bottom driver marked the location pending (0x01).
    expect(out[marked + 1]).toBe(`${" ".repeat(10)}  0 c1 ${p16(held.bottom.address)} 00000000 ${routine}-00000000 Success Error  pending`);
    expect(out[marked + 2].trim()).toBe(`${held.bottom.DriverObject.DriverName} ${topDriver}!TopCompletion`);
    expect(out[marked + 3].trim()).toBe("Args: 00000000 00000000 00222004 00000000");
    // The top driver's location, not current: its device and the buffer length it was given.
    expect(out[marked + 4]).toBe(" [IRP_MJ_DEVICE_CONTROL(e), N/A(0)]");
    expect(out[marked + 5]).toContain(` ${p16(held.top.address)} 00000000 00000000-00000000`);
    expect(out[marked + 7].trim()).toBe("Args: 00000020 00000000 00222004 00000000");
    expect(out).toContain("Cancel = 00");
    expect(out).toContain(`CancelRoutine = ${p16(MM(k).codeAddress(held.bottom.DriverObject.serviceName, "LeaveCancelled"))}  ${held.bottom.DriverObject.serviceName}!LeaveCancelled`);
    expect(out).toContain("IoStatus.Status = 00000000 (STATUS_SUCCESS)");
  });

  it("after IoCancelIrp, !irp shows Cancel set and the cancel routine gone", async () => {
    const cancelled = await machine.exec(() => IoCancelIrp(held.irp));
    expect(cancelled).toBe(true);
    const out = inspect(machine, `!irp ${p16(held.irp.address)}`).split("\n");
    expect(out).toContain("Cancel = 01");
    expect(out).toContain("CancelRoutine = 00000000");
    expect(out[0]).toContain("Irp is active with 2 stacks 1 is current");
  });
});

describe("inspection leaves bug check parameters alone", () => {
  it("a routine's code address is the same whether or not other routines were shown first", async () => {
    const [plain, inspected] = [await bootDefault(), await bootDefault()];
    inspect(inspected, "!drvobj edu 2");
    inspect(inspected, "!drvobj pci 2");
    const at = (m: typeof plain) => MM(kernelOf(m)).codeAddress("edu", "SomeRoutineNotYetNamed");
    expect(at(inspected)).toBe(at(plain));
    expect(MM(kernelOf(plain)).routineAt(at(plain))).toBe("edu!SomeRoutineNotYetNamed");
  });
});
