// !object and !handle in WinDbg's layout: the object's address and type, its header and counts, the
// directory and name it has; a directory's entries by hash bucket; a symbolic link's target; a
// process's handle table with each handle's object, granted access and entry. Bad arguments say
// what to fix. Inspecting changes nothing in the machine.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, inspect, InspectError, formatPointer, ZwCreateEvent, OBJECT_ATTRIBUTES, InitializeObjectAttributes, OBJ_KERNEL_HANDLE,
  EVENT_ALL_ACCESS, EVENT_TYPE, IoDeviceObjectType, ExEventObjectType, CreateEvent,
} from "../../src/index.js";
import { bootDefault, kernelOf } from "../support/kernel-harness.js";
import { IO } from "../../src/io/manager.js";
import { OB } from "../../src/ob/manager.js";

const p16 = (address: number) => formatPointer(address).replace("`", "");

function inspectError(machine: Machine, command: string): string {
  try {
    inspect(machine, command);
  } catch (e) {
    expect(e).toBeInstanceOf(InspectError);
    return (e as Error).message;
  }
  throw new Error(`"${command}" did not fail`);
}

describe("!object and !handle", () => {
  let machine: Machine;
  let kernelHandle = 0;
  beforeAll(async () => {
    machine = await bootDefault();
    await machine.exec(() => {
      const oa = new OBJECT_ATTRIBUTES();
      InitializeObjectAttributes(oa, "\\BaseNamedObjects\\InspectMe", OBJ_KERNEL_HANDLE, null, null);
      kernelHandle = ZwCreateEvent(EVENT_ALL_ACCESS, oa, EVENT_TYPE.NotificationEvent, false).EventHandle;
    });
  });

  it("!object \\Device\\Edu0 prints the device object's address and type, its header, its counts, its directory and name", () => {
    const k = kernelOf(machine);
    const ob = OB(k);
    const edu = IO(k).resolve("\\Device\\Edu0")!;
    const h = ob.headerOf(edu)!;
    const out = inspect(machine, "!object \\Device\\Edu0").split("\n");
    expect(out).toEqual([
      `Object: ${p16(edu.address)}  Type: (${p16(ob.typeAddress(IoDeviceObjectType))}) Device`,
      `    ObjectHeader: ${p16(edu.address - 0x30)} (new version)`,
      `    HandleCount: 0  PointerCount: ${h.PointerCount}`,
      `    Directory Object: ${p16(h.Directory!.header.bodyAddress)}  Name: Edu0`,
    ]);
  });

  it("!object \\ lists the root directory's entries under the Hash / Address / Type / Name header", () => {
    const out = inspect(machine, "!object \\").split("\n");
    expect(out[0]).toMatch(/^Object: [0-9a-f]{16}  Type: \([0-9a-f]{16}\) Directory$/);
    expect(out[3]).toBe("    Directory Object: 00000000  Name: \\");
    expect(out[5]).toBe("    Hash Address          Type                      Name");
    expect(out[6]).toBe("    ---- -------          ----                      ----");
    const entries = out.slice(7).map((l) => l.slice(9).split(/\s+/));
    expect(entries.map((e) => `${e[1]} ${e[2]}`).sort()).toEqual([
      "Directory BaseNamedObjects", "Directory Device", "Directory Driver", "Directory GLOBAL??", "Directory ObjectTypes", "SymbolicLink DosDevices",
    ]);
    for (const l of out.slice(7)) expect(l).toMatch(/^( {5}\d\d {2}| {9})[0-9a-f]{16} \S+\s+\S+$/);
  });

  it("!object on a symbolic link shows the link itself and its target string; !object <address> finds the same object", () => {
    const out = inspect(machine, "!object \\GLOBAL??\\Edu0").split("\n");
    expect(out[0]).toMatch(/Type: \([0-9a-f]{16}\) SymbolicLink$/);
    expect(out[out.length - 1]).toBe("    Target String is '\\Device\\Edu0'");
    const address = out[0].slice("Object: ".length, "Object: ".length + 16);
    expect(inspect(machine, `!object ${address}`)).toBe(out.join("\n"));
  });

  it("!handle with no arguments lists the kernel handle table (the System process) with each object's details", () => {
    const ob = OB(kernelOf(machine));
    const entry = ob.kernelHandles.entry(kernelHandle + 0x80000000)!;
    const out = inspect(machine, "!handle").split("\n");
    expect(out[0]).toMatch(/^PROCESS [0-9a-f]{16}$/);
    expect(out[1]).toBe("    SessionId: none  Cid: 0004    Peb: 00000000  ParentCid: 0000");
    expect(out[3]).toBe("    Image: System");
    expect(out[5]).toMatch(/^Kernel handle table at [0-9a-f]{16} with \d+ entries in use$/);
    const line = out.findIndex((l) => l.includes(`Object: ${p16(entry.Object.bodyAddress)}  GrantedAccess`));
    expect(out[line]).toMatch(new RegExp(`^[0-9a-f]{4}: Object: ${p16(entry.Object.bodyAddress)}  GrantedAccess: 001f0003 Entry: [0-9a-f]{16}$`));
    expect(out[line + 1]).toBe(`Object: ${p16(entry.Object.bodyAddress)}  Type: (${p16(ob.typeAddress(ExEventObjectType))}) Event`);
    expect(out[line + 2]).toBe(`    ObjectHeader: ${p16(entry.Object.address)} (new version)`);
    expect(out[line + 3]).toBe("        HandleCount: 1  PointerCount: 2");
    expect(out[line + 4]).toMatch(/^ {8}Directory Object: [0-9a-f]{16} {2}Name: InspectMe$/);
  });

  it("!handle <kernel handle> 0 shows that handle only, without details; a user process's table is named by its process id", async () => {
    const one = inspect(machine, `!handle ${formatPointer(kernelHandle)} 0`).split("\n");
    expect(one.filter((l) => / Object: /.test(l))).toHaveLength(1);
    expect(one.some((l) => l.startsWith("Object: "))).toBe(false);
    let pid = 0;
    let text = "";
    await machine.runProgram("inspected", async () => {
      CreateEvent(null, true, false, null);
      pid = (await import("../../src/index.js")).PsGetCurrentProcessId();
      text = inspect(machine, `!handle 0 3 ${pid.toString(16)}`);
    });
    const lines = text.split("\n");
    expect(lines[1]).toContain(`Cid: ${pid.toString(16).padStart(4, "0")}`);
    expect(lines[3]).toBe("    Image: inspected");
    expect(lines[5]).toMatch(/^Handle table at [0-9a-f]{16} with 1 entries in use$/);
    expect(lines[7]).toMatch(/^0004: Object: [0-9a-f]{16}  GrantedAccess: 001f0003 Entry: /);
  });

  it("bad commands say what to fix", () => {
    expect(inspectError(machine, "!object")).toContain("!object needs an object");
    expect(inspectError(machine, "!object \\Device\\NoSuch")).toContain("not in the object namespace (STATUS_OBJECT_NAME_NOT_FOUND)");
    expect(inspectError(machine, "!object zz")).toContain("neither a path");
    expect(inspectError(machine, "!handle zz")).toContain("is not a handle value");
    expect(inspectError(machine, "!handle 0 3 999")).toContain("no process has id or address 999");
  });
});
