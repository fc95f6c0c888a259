// Debug output: DbgPrint/DbgPrintEx filtered by component and level as Windows filters
// them (the Debug Print Filter key), and the checked-build checks ASSERT, NT_ASSERT and
// PAGED_CODE.
import { describe, expect, it } from "vitest";
import {
  ASSERT, DbgPrint, DbgPrintEx, DISPATCH_LEVEL, DPFLTR_DEFAULT_ID, DPFLTR_ERROR_LEVEL, DPFLTR_IHVDRIVER_ID, DPFLTR_INFO_LEVEL, DPFLTR_MASK,
  DPFLTR_TRACE_LEVEL, DPFLTR_WARNING_LEVEL, KD, KdPrint, Machine, NT_ASSERT, PAGED_CODE, STATUS_ASSERTION_FAILURE, STATUS_BREAKPOINT,
  STATUS_INVALID_PARAMETER, STATUS_SUCCESS, RTL_CONSTANT_STRING,
} from "../../src/index.js";
import { boot } from "../../src/pnp/boot.js";
import { asDriver, bugCheckOf, crash, defaultDescription, expectBugCheck, kernelOf } from "../support/kernel-harness.js";

const KMODE_EXCEPTION_NOT_HANDLED = 0x1E;
const FILTER = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Debug Print Filter";

async function machineWith(filter: Record<string, number> | null): Promise<Machine> {
  const d = defaultDescription();
  if (filter) d.registry = { [FILTER]: filter };
  return boot(Machine.fromDescription(d));
}

const texts = (m: Machine) => KD(kernelOf(m)).output.entries().map((e) => e.text);

describe("DbgPrint and DbgPrintEx", () => {
  it("with no filter set, only error-level messages pass: DbgPrint (DEFAULT, INFO) is hidden", async () => {
    const m = await machineWith(null);
    await m.exec(() => asDriver("drv", "DriverEntry", () => {
      DbgPrint("hidden %d\n", 1);
      DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_INFO_LEVEL, "hidden too\n");
      DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL, "error %s\n", "shown");
    }));
    expect(texts(m)).toEqual(["error shown\n"]);
    expect(KD(kernelOf(m)).output.entries()[0].driver).toBe("drv");
  });

  it("the Debug Print Filter key's component masks let levels through; a Level above 31 is a mask", async () => {
    const m = await machineWith({ DEFAULT: 0xF, IHVDRIVER: 1 << DPFLTR_TRACE_LEVEL });
    const statuses = await m.exec(() => [
      DbgPrint("%s=%d 0x%04x %wZ %c\n", "n", -5, 0xAB, RTL_CONSTANT_STRING("uni"), 0x41),
      KdPrint("kd %u\n", 7),
      DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_TRACE_LEVEL, "trace\n"),
      DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_WARNING_LEVEL, "warning hidden\n"),
      DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_MASK | (1 << DPFLTR_TRACE_LEVEL), "mask\n"),
      DbgPrintEx(DPFLTR_DEFAULT_ID, DPFLTR_INFO_LEVEL, "%q\n"),
    ]);
    expect(statuses).toEqual([STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS, STATUS_INVALID_PARAMETER]);
    expect(texts(m)).toEqual(["n=-5 0x00ab uni A\n", "kd 7\n", "trace\n", "mask\n"]);
  });

  it("cuts a message at 512 bytes", async () => {
    const m = await machineWith({ DEFAULT: 0xF });
    await m.exec(() => DbgPrint("%s", "x".repeat(600)));
    expect(texts(m)[0].length).toBe(512);
  });
});

describe("ASSERT, NT_ASSERT and PAGED_CODE", () => {
  it("a failed ASSERT prints the assertion and breaks: 0x1E with STATUS_BREAKPOINT", async () => {
    const m = await machineWith(null);
    const bc = await bugCheckOf(m.exec(() => asDriver("drv", "DispatchRead", () => ASSERT(1 + 1 === 3, "1 + 1 == 3", "read.c", 42))));
    expectBugCheck(bc, KMODE_EXCEPTION_NOT_HANDLED, STATUS_BREAKPOINT);
    expect(texts(m)).toEqual(["*** Assertion failed: 1 + 1 == 3\n***   Source File: read.c, line 42\n\n"]);
    expect(bc.context.routine).toBe("DispatchRead");
  });

  it("a failed NT_ASSERT raises STATUS_ASSERTION_FAILURE: 0x1E with that code", async () => {
    const bc = await crash(() => asDriver("drv", "DispatchWrite", () => NT_ASSERT(false, "Irp != NULL")));
    expectBugCheck(bc, KMODE_EXCEPTION_NOT_HANDLED, STATUS_ASSERTION_FAILURE);
  });

  it("PAGED_CODE passes at PASSIVE_LEVEL and fails above APC_LEVEL, saying at which IRQL", async () => {
    const m = await machineWith(null);
    await m.exec(() => asDriver("drv", "Pageable", () => PAGED_CODE()));
    const bc = await bugCheckOf(m.exec(() => asDriver("drv", "Pageable", () => PAGED_CODE()), { irql: DISPATCH_LEVEL }));
    expectBugCheck(bc, KMODE_EXCEPTION_NOT_HANDLED, STATUS_ASSERTION_FAILURE);
    expect(texts(m)[0]).toBe("EX: Pageable code called at IRQL 2\n");
  });
});
