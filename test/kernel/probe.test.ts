// ProbeForRead / ProbeForWrite against their reference pages (STATUS_ACCESS_VIOLATION for a
// range outside user space or not writable, STATUS_DATATYPE_MISALIGNMENT for a misaligned
// start, nothing checked for Length 0, IRQL <= APC_LEVEL), and the __try/__except idiom:
// ExRaiseStatus, tryExcept, tryExceptAsync, GetExceptionCode, and 0x1E for what no
// handler takes.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, ProbeForRead, ProbeForWrite, VirtualAlloc, ExRaiseStatus, tryExcept, tryExceptAsync, GetExceptionCode,
  EXCEPTION_EXECUTE_HANDLER, EXCEPTION_CONTINUE_SEARCH, STATUS_ACCESS_VIOLATION, STATUS_DATATYPE_MISALIGNMENT, STATUS_SUCCESS,
  STATUS_INVALID_PARAMETER, STATUS_DEVICE_NOT_READY, ExAllocatePool2, POOL_FLAG_NON_PAGED, readU32, writeU32, MM_USER_PROBE_ADDRESS,
  KeBugCheckEx, DISPATCH_LEVEL, APC_LEVEL, type NTSTATUS,
} from "../../src/index.js";
import { asDriver, bootDefault, crash, expectBugCheck } from "../support/kernel-harness.js";

const PAGE = 4096;

/** The status `fn` raised (caught as C's __except (EXCEPTION_EXECUTE_HANDLER) would), or STATUS_SUCCESS. */
function statusOf(fn: () => void): NTSTATUS {
  return tryExcept(() => {
    fn();
    return STATUS_SUCCESS;
  }, EXCEPTION_EXECUTE_HANDLER, () => GetExceptionCode());
}

/** Runs `body` as a user program's system call would (its own process, PASSIVE_LEVEL). */
function inProcess<T>(machine: Machine, body: () => T): Promise<T> {
  return machine.runProgram("probe-test", async () => body());
}

describe("ProbeForRead and ProbeForWrite", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("a user buffer that is mapped, writable and aligned passes both probes", async () => {
    const r = await inProcess(machine, () => {
      const va = VirtualAlloc(2 * PAGE);
      return [statusOf(() => ProbeForRead(va, 2 * PAGE, 4)), statusOf(() => ProbeForWrite(va + 8, 2 * PAGE - 8, 8))];
    });
    expect(r).toEqual([STATUS_SUCCESS, STATUS_SUCCESS]);
  });

  it("a misaligned start raises STATUS_DATATYPE_MISALIGNMENT", async () => {
    const r = await inProcess(machine, () => {
      const va = VirtualAlloc(PAGE);
      return [statusOf(() => ProbeForRead(va + 2, 16, 4)), statusOf(() => ProbeForWrite(va + 4, 16, 8)), statusOf(() => ProbeForRead(va + 1, 16, 1))];
    });
    expect(r).toEqual([STATUS_DATATYPE_MISALIGNMENT, STATUS_DATATYPE_MISALIGNMENT, STATUS_SUCCESS]);
  });

  it("a range reaching past MmUserProbeAddress, or a kernel address, raises STATUS_ACCESS_VIOLATION", async () => {
    const r = await inProcess(machine, () => {
      const pool = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, "PrbT");
      return [
        statusOf(() => ProbeForRead(MM_USER_PROBE_ADDRESS - 8, 16, 1)),
        statusOf(() => ProbeForRead(pool, 64, 4)),
        statusOf(() => ProbeForWrite(pool, 64, 4)),
        statusOf(() => ProbeForRead(MM_USER_PROBE_ADDRESS - 16, 16, 1)),
      ];
    });
    expect(r).toEqual([STATUS_ACCESS_VIOLATION, STATUS_ACCESS_VIOLATION, STATUS_ACCESS_VIOLATION, STATUS_SUCCESS]);
  });

  it("ProbeForWrite touches every page: an unmapped page raises STATUS_ACCESS_VIOLATION (ProbeForRead does not look)", async () => {
    const r = await inProcess(machine, () => {
      const va = VirtualAlloc(PAGE); // the page after it is not committed
      return [statusOf(() => ProbeForWrite(va, 2 * PAGE, 1)), statusOf(() => ProbeForRead(va, 2 * PAGE, 1))];
    });
    expect(r).toEqual([STATUS_ACCESS_VIOLATION, STATUS_SUCCESS]);
  });

  it("Length 0 checks nothing, not even alignment or range", async () => {
    const r = await machine.exec(() => [statusOf(() => ProbeForRead(0x800000000001, 0, 8)), statusOf(() => ProbeForWrite(3, 0, 4))]);
    expect(r).toEqual([STATUS_SUCCESS, STATUS_SUCCESS]);
  });

  it("ProbeForWrite leaves the buffer's contents as they were", async () => {
    const v = await inProcess(machine, () => {
      const va = VirtualAlloc(PAGE);
      writeU32(va + 12, 0xA5A5A5A5);
      ProbeForWrite(va + 12, 4, 4);
      return readU32(va + 12);
    });
    expect(v).toBe(0xA5A5A5A5);
  });

  it("probing at DISPATCH_LEVEL is 0xC4, P1 0x00020006 (IrqlExApcLte2) under the verifier", async () => {
    const bc = await crash(() => ProbeForRead(0x10000, 4, 4), { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, 0xC4, 0x00020006, DISPATCH_LEVEL);
  });

  it("probing at APC_LEVEL is allowed", async () => {
    const s = await machine.exec(() => statusOf(() => ProbeForRead(0x10000, 4, 4)), { irql: APC_LEVEL });
    expect(s).toBe(STATUS_SUCCESS);
  });

  it("a probe failure no handler takes is 0x1E KMODE_EXCEPTION_NOT_HANDLED with P1 the status", async () => {
    const bc = await crash(() => asDriver("probedrv", "DispatchDeviceControl", () => ProbeForRead(MM_USER_PROBE_ADDRESS, 4, 4)));
    expectBugCheck(bc, 0x1E, STATUS_ACCESS_VIOLATION);
    expect(bc.context.driver).toBe("probedrv");
  });
});

describe("__try / __except", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("tryExcept returns the body's value, or the handler's when a raised status is accepted; GetExceptionCode works in filter and handler", async () => {
    const r = await machine.exec(() => {
      const seen: NTSTATUS[] = [];
      const plain = tryExcept(() => 7, EXCEPTION_EXECUTE_HANDLER, () => -1);
      const handled = tryExcept(() => ExRaiseStatus(STATUS_DEVICE_NOT_READY), (code) => {
        seen.push(code, GetExceptionCode());
        return EXCEPTION_EXECUTE_HANDLER;
      }, (code) => [code, GetExceptionCode()]);
      return { plain, handled, seen };
    });
    expect(r).toEqual({ plain: 7, handled: [STATUS_DEVICE_NOT_READY, STATUS_DEVICE_NOT_READY], seen: [STATUS_DEVICE_NOT_READY, STATUS_DEVICE_NOT_READY] });
  });

  it("EXCEPTION_CONTINUE_SEARCH passes the exception to the enclosing handler", async () => {
    const r = await machine.exec(() => tryExcept(
      () => tryExcept(() => ExRaiseStatus(STATUS_INVALID_PARAMETER), (code) => (code === STATUS_ACCESS_VIOLATION ? EXCEPTION_EXECUTE_HANDLER : EXCEPTION_CONTINUE_SEARCH), () => "inner"),
      EXCEPTION_EXECUTE_HANDLER,
      (code) => ["outer", code],
    ));
    expect(r).toEqual(["outer", STATUS_INVALID_PARAMETER]);
  });

  it("tryExceptAsync handles a status raised after a wait", async () => {
    const r = await machine.exec(() => tryExceptAsync(async () => {
      await Promise.resolve();
      ExRaiseStatus(STATUS_ACCESS_VIOLATION);
    }, EXCEPTION_EXECUTE_HANDLER, (code) => code));
    expect(r).toBe(STATUS_ACCESS_VIOLATION);
  });

  it("a fault on an unmapped user address inside tryExcept is caught as STATUS_ACCESS_VIOLATION", async () => {
    const r = await inProcess(machine, () => statusOf(() => readU32(0x5000)));
    expect(r).toBe(STATUS_ACCESS_VIOLATION);
  });

  it("a bug check is never caught, whatever the filter", async () => {
    const bc = await crash(() => tryExcept(() => KeBugCheckEx(0xE2, 0, 0, 0, 0), EXCEPTION_EXECUTE_HANDLER, () => "caught"));
    expectBugCheck(bc, 0xE2);
  });

  it("a JavaScript error in the body is not a raised status: it is not caught (0x1E)", async () => {
    const bc = await crash(() => asDriver("jsdrv", "DriverEntry", () => tryExcept(() => {
      throw new Error("driver bug");
    }, EXCEPTION_EXECUTE_HANDLER, () => "caught")));
    expect(bc.code).toBe(0x1E);
  });

  it("an unhandled ExRaiseStatus is 0x1E with P1 the status", async () => {
    const bc = await crash(() => asDriver("raisedrv", "DriverEntry", () => ExRaiseStatus(STATUS_DEVICE_NOT_READY)));
    expectBugCheck(bc, 0x1E, STATUS_DEVICE_NOT_READY);
  });

  it("ExRaiseStatus above APC_LEVEL is 0xC4, P1 0x00020008 (IrqlExPassive) under the verifier", async () => {
    const bc = await crash(() => ExRaiseStatus(STATUS_INVALID_PARAMETER), { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, 0xC4, 0x00020008, DISPATCH_LEVEL);
  });

  it("GetExceptionCode outside a filter or handler is an error", async () => {
    expect(() => GetExceptionCode()).toThrow();
  });
});
