/**
 * !drvobj DriverObject [Flags]: a DRIVER_OBJECT. Flag 0x1 (the default) lists its device
 * objects, 0x2 its entry points and dispatch routines, 0x4 (with 0x1) each device object
 * in detail. Routine addresses are the code addresses bug checks report for the same
 * routines (driver!routine); table entries the driver left alone show
 * nt!IopInvalidDeviceRequest.
 */
import { IopInvalidDeviceRequest, type DEVICE_OBJECT, type DRIVER_OBJECT } from "../io/objects.js";
import { InspectError, expectAtMost, parseFlags } from "./args.js";
import { codeSymbol, findDriver, ptr, routineName, type InspectContext } from "./context.js";
import { devobjLines } from "./devobj.js";
import { MAJOR_FUNCTION_NAMES } from "./names.js";

const USAGE = "!drvobj <driver name | driver object address> [Flags]  (Flags 0x1 devices, 0x2 dispatch routines, 0x4 device details)";

/** A parsed !drvobj command. */
export interface DrvobjArgs {
  driver: string;
  flags: number;
}

/** Parses !drvobj's arguments. */
export function parseDrvobj(words: string[]): DrvobjArgs {
  expectAtMost(words, 2, USAGE);
  if (words.length === 0) throw new InspectError(`!drvobj needs a driver; usage: ${USAGE}`);
  const flags = words.length > 1 ? parseFlags(words[1], "!drvobj Flags", 0x7) : 0x1;
  return { driver: words[0], flags };
}

/** "address  driver!routine" for an entry point, or 00000000 when it is not set. */
function entry(ctx: InspectContext, driver: DRIVER_OBJECT, routine: { readonly name: string } | null | undefined, fallback: string): string {
  if (!routine) return "00000000";
  const owner = routine === IopInvalidDeviceRequest ? "nt" : driver.serviceName;
  const { address, symbol } = codeSymbol(ctx, owner, routineName(routine, fallback));
  return `${ptr(address)}  ${symbol}`;
}

/** Runs !drvobj. */
export function drvobj(ctx: InspectContext, args: DrvobjArgs): string {
  const driver = findDriver(ctx, args.driver, "!drvobj");
  const out = [`Driver object (${ptr(driver.address)}) is for:`, ` ${driver.DriverName}`];
  if (args.flags & 0x1) {
    const devices: DEVICE_OBJECT[] = [];
    for (let d = driver.DeviceObject; d; d = d.NextDevice) devices.push(d);
    out.push("", "Driver Extension List: (id , addr)", "", "Device Object list:");
    for (let i = 0; i < devices.length; i += 4) out.push(devices.slice(i, i + 4).map((d) => ptr(d.address)).join("  "));
    if (args.flags & 0x4) for (const d of devices) out.push("", ...devobjLines(ctx, d));
  }
  if (args.flags & 0x2) {
    out.push(
      "",
      `DriverEntry:   ${entry(ctx, driver, { name: "DriverEntry" }, "DriverEntry")}`,
      `DriverStartIo: ${entry(ctx, driver, driver.DriverStartIo, "StartIo")}`,
      `DriverUnload:  ${entry(ctx, driver, driver.DriverUnload, "DriverUnload")}`,
      `AddDevice:     ${entry(ctx, driver, driver.DriverExtension.AddDevice, "AddDevice")}`,
      "",
      "Dispatch routines:",
    );
    driver.MajorFunction.forEach((routine, i) => {
      const name = MAJOR_FUNCTION_NAMES[i] ?? `IRP_MJ_0x${i.toString(16)}`;
      out.push(`[${i.toString(16).padStart(2, "0")}] ${name.padEnd(35)}${entry(ctx, driver, routine, "DispatchRoutine")}`);
    });
  }
  return out.join("\n");
}
