// Time and memory helpers: KeQueryTickCount / KeQueryTimeIncrement against interrupt time,
// system time's base (power-on is January 1, 1601 UTC), RtlTimeToTimeFields /
// RtlTimeFieldsToTime (calendar facts, invalid fields give FALSE), ExSystemTimeToLocalTime,
// RtlCopyBytes / RtlZeroBytes / RtlEqualMemory, Int32x32To64 / UInt32x32To64.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, KeQueryTickCount, KeQueryTimeIncrement, KeQueryInterruptTime, KeQueryInterruptTimePrecise, KeQuerySystemTime,
  KeQuerySystemTimePrecise, RtlTimeToTimeFields, RtlTimeFieldsToTime, TIME_FIELDS, ExSystemTimeToLocalTime, ExLocalTimeToSystemTime,
  RtlCopyBytes, RtlZeroBytes, RtlEqualMemory, Int32x32To64, UInt32x32To64, ExAllocatePool2, ExFreePoolWithTag, POOL_FLAG_NON_PAGED,
  readBytes, writeBytes,
} from "../../src/index.js";
import { bootDefault, sleep100ns } from "../support/kernel-harness.js";
import { loadMachine } from "../../src/machine/firmwareFiles.js";
import { Machine as MachineClass } from "../../src/machine/machine.js";
import { boot } from "../../src/pnp/boot.js";

/** 100 ns units from 1601-01-01 to 1970-01-01 (the Unix epoch), a well-known FILETIME constant. */
const UNIX_EPOCH_AS_SYSTEM_TIME = 116444736000000000n;

function fields(Year: number, Month: number, Day: number, Hour = 0, Minute = 0, Second = 0, Milliseconds = 0): TIME_FIELDS {
  return Object.assign(new TIME_FIELDS(), { Year, Month, Day, Hour, Minute, Second, Milliseconds });
}

describe("time", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("KeQueryTimeIncrement is 156250 (15.625 ms) on a machine without its own clock tick; KeQueryTickCount * it tracks interrupt time", async () => {
    const r = await machine.exec(async () => {
      const before = KeQueryTickCount();
      await sleep100ns(3 * 156_250);
      return { before, after: KeQueryTickCount(), increment: KeQueryTimeIncrement(), interrupt: KeQueryInterruptTimePrecise() };
    });
    expect(r.increment).toBe(156_250);
    expect(r.after - r.before).toBeGreaterThanOrEqual(3);
    expect(r.after).toBe(Math.floor(r.interrupt / r.increment));
  });

  it("on a machine with a 1 ms clock tick, the increment is 10000 and the non-precise times move only at ticks", async () => {
    const d = loadMachine("default");
    d.kernel = { ...d.kernel, clockTickUs: 1000 };
    const m = await boot(MachineClass.fromDescription(d));
    const r = await m.exec(async () => {
      await sleep100ns(25_000);
      return { inc: KeQueryTimeIncrement(), ticks: KeQueryTickCount(), interrupt: KeQueryInterruptTime(), system: KeQuerySystemTime() };
    });
    expect(r.inc).toBe(10_000);
    expect(r.interrupt).toBe(r.ticks * 10_000);
    expect(r.system).toBe(r.interrupt);
  });

  it("system time counts from power-on, which is January 1, 1601 00:00 UTC; local time is UTC", async () => {
    const r = await machine.exec(() => {
      const now = KeQuerySystemTimePrecise();
      return { now, tf: RtlTimeToTimeFields(now), local: ExSystemTimeToLocalTime(now), back: ExLocalTimeToSystemTime(now) };
    });
    expect(r.tf.Year).toBe(1601);
    expect(r.tf.Month).toBe(1);
    expect(r.tf.Day).toBe(1);
    expect(r.local).toBe(r.now);
    expect(r.back).toBe(r.now);
  });

  it("RtlTimeToTimeFields: the epoch, the Unix epoch, a leap day, milliseconds and weekdays", () => {
    expect({ ...RtlTimeToTimeFields(0) }).toEqual({ Year: 1601, Month: 1, Day: 1, Hour: 0, Minute: 0, Second: 0, Milliseconds: 0, Weekday: 1 });
    expect({ ...RtlTimeToTimeFields(UNIX_EPOCH_AS_SYSTEM_TIME) }).toEqual({ Year: 1970, Month: 1, Day: 1, Hour: 0, Minute: 0, Second: 0, Milliseconds: 0, Weekday: 4 });
    const leap = RtlTimeFieldsToTime(fields(2024, 2, 29, 13, 14, 15, 678));
    expect(leap.succeeded).toBe(true);
    expect({ ...RtlTimeToTimeFields(leap.Time) }).toEqual({ Year: 2024, Month: 2, Day: 29, Hour: 13, Minute: 14, Second: 15, Milliseconds: 678, Weekday: 4 });
    expect(RtlTimeToTimeFields(86_400n * 10_000_000n * 365n).Year).toBe(1602);
  });

  it("RtlTimeFieldsToTime: round trip to the Unix epoch; out-of-range fields give FALSE", () => {
    expect(RtlTimeFieldsToTime(fields(1970, 1, 1))).toEqual({ succeeded: true, Time: UNIX_EPOCH_AS_SYSTEM_TIME });
    expect(RtlTimeFieldsToTime(fields(1601, 1, 1, 0, 0, 1))).toEqual({ succeeded: true, Time: 10_000_000 });
    for (const bad of [fields(1600, 12, 31), fields(2023, 2, 29), fields(2024, 13, 1), fields(2024, 4, 31), fields(2024, 1, 1, 24), fields(2024, 1, 1, 0, 60), fields(2024, 1, 1, 0, 0, 0, 1000), fields(30828, 1, 1)]) {
      expect(RtlTimeFieldsToTime(bad)).toEqual({ succeeded: false, Time: 0 });
    }
  });
});

describe("memory helpers", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("RtlCopyBytes copies, RtlZeroBytes zeroes, RtlEqualMemory compares", async () => {
    const r = await machine.exec(() => {
      const a = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, "MemT");
      const b = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, "MemT");
      writeBytes(a, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
      RtlCopyBytes(b, a, 8);
      const copied = [...readBytes(b, 8)];
      const equal = RtlEqualMemory(a, b, 8);
      RtlZeroBytes(b + 2, 4);
      const zeroed = [...readBytes(b, 8)];
      const after = [RtlEqualMemory(a, b, 8), RtlEqualMemory(a, b, 2)];
      ExFreePoolWithTag(a, "MemT");
      ExFreePoolWithTag(b, "MemT");
      return { copied, equal, zeroed, after };
    });
    expect(r).toEqual({ copied: [1, 2, 3, 4, 5, 6, 7, 8], equal: true, zeroed: [1, 2, 0, 0, 0, 0, 7, 8], after: [false, true] });
  });

  it("Int32x32To64 and UInt32x32To64 give exact 64-bit products", () => {
    expect(Int32x32To64(-1, 1)).toBe(-1n);
    expect(Int32x32To64(0x7FFFFFFF, 0x7FFFFFFF)).toBe(0x3FFFFFFF00000001n);
    expect(Int32x32To64(0xFFFFFFFF, 2)).toBe(-2n); // 0xFFFFFFFF as a LONG is -1
    expect(UInt32x32To64(0xFFFFFFFF, 0xFFFFFFFF)).toBe(0xFFFFFFFE00000001n);
    expect(Int32x32To64(100, -10_000)).toBe(-1_000_000n); // 100 ms as a relative timeout
  });
});
