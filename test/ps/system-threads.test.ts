// System threads as the WDK documents them: PsCreateSystemThread returns a handle to the thread
// object (and its CLIENT_ID), the thread runs StartRoutine(StartContext) and ends when it returns
// or calls PsTerminateSystemThread (which does not return); the thread object is signalled when it
// ends, so ObReferenceObjectByHandle + KeWaitForSingleObject waits for it. PsGetCurrentThread,
// PsGetCurrentThreadId, PsGetCurrentProcessId, PsIsSystemThread, PsGetThreadId, PsGetProcessId.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, type ETHREAD, PsCreateSystemThread, PsTerminateSystemThread, PsGetCurrentThread, PsGetCurrentThreadId, PsGetCurrentProcessId,
  PsGetCurrentProcess, IoGetCurrentProcess, PsIsSystemThread, PsGetThreadId, PsGetThreadProcessId, PsGetProcessId, ObReferenceObjectByHandle,
  ObDereferenceObject, ObIsKernelHandle, ZwClose, KeWaitForSingleObject, KWAIT_REASON, KPROCESSOR_MODE, PsThreadType, OBJECT_ATTRIBUTES,
  InitializeObjectAttributes, OBJ_KERNEL_HANDLE, THREAD_ALL_ACCESS, SYNCHRONIZE, NtCurrentProcess, STATUS_SUCCESS, STATUS_PENDING,
  STATUS_INVALID_PARAMETER, STATUS_UNSUCCESSFUL, STATUS_TIMEOUT, DISPATCH_LEVEL, KeRaiseIrql, DRIVER_VERIFIER_DETECTED_VIOLATION,
  DDI_RULE_IRQL_PS_PASSIVE, CreateThread, WaitForSingleObject, CloseHandle,
} from "../../src/index.js";
import { asDriver, bootDefault, crash, expectBugCheck, sleep100ns } from "../support/kernel-harness.js";
import { OB } from "../../src/ob/manager.js";

function kernelHandleAttributes(): OBJECT_ATTRIBUTES {
  const oa = new OBJECT_ATTRIBUTES();
  InitializeObjectAttributes(oa, null, OBJ_KERNEL_HANDLE, null, null);
  return oa;
}

/** References a thread handle and waits for the thread to end; returns its exit status. */
async function join(handle: number): Promise<{ wait: number; exit: number; thread: ETHREAD }> {
  const r = ObReferenceObjectByHandle<ETHREAD>(handle, SYNCHRONIZE, PsThreadType, KPROCESSOR_MODE.KernelMode);
  if (r.status !== STATUS_SUCCESS) throw new Error(`ObReferenceObjectByHandle: ${r.status}`);
  const wait = await KeWaitForSingleObject(r.Object!, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  const exit = r.Object!.ExitStatus;
  ObDereferenceObject(r.Object!);
  await ZwClose(handle);
  return { wait, exit, thread: r.Object! };
}

describe("system threads", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("PsCreateSystemThread runs StartRoutine(StartContext) in a new System thread; the thread object is signalled when the routine returns (STATUS_SUCCESS)", async () => {
    const r = await machine.exec(async () => {
      const seen: Record<string, unknown> = {};
      const created = asDriver("obps", "DriverEntry", () => PsCreateSystemThread(THREAD_ALL_ACCESS, kernelHandleAttributes(), null, async function Worker(ctx) {
        const me = PsGetCurrentThread()!;
        Object.assign(seen, {
          ctx, system: PsIsSystemThread(me), tid: PsGetCurrentThreadId(), pid: PsGetCurrentProcessId(), threadPid: PsGetThreadProcessId(me),
          processId: PsGetProcessId(PsGetCurrentProcess()), io: IoGetCurrentProcess() === PsGetCurrentProcess(), self: me,
        });
        await sleep100ns(1000);
      }, "context"));
      const beforeEnd = ObReferenceObjectByHandle<ETHREAD>(created.ThreadHandle, 0, PsThreadType, KPROCESSOR_MODE.KernelMode);
      const runningStatus = beforeEnd.Object!.ExitStatus;
      ObDereferenceObject(beforeEnd.Object!);
      const { wait, exit, thread } = await join(created.ThreadHandle);
      return {
        status: created.status, kernel: ObIsKernelHandle(created.ThreadHandle), runningStatus, wait, exit, seen, sameThread: seen.self === thread,
        clientTid: created.ClientId!.UniqueThread, threadId: PsGetThreadId(thread), clientPid: created.ClientId!.UniqueProcess,
      };
    });
    expect(r.status).toBe(STATUS_SUCCESS);
    expect(r.kernel).toBe(true);
    expect(r.runningStatus).toBe(STATUS_PENDING);
    expect(r.wait).toBe(STATUS_SUCCESS);
    expect(r.exit).toBe(STATUS_SUCCESS);
    expect(r.sameThread).toBe(true);
    expect(r.seen).toMatchObject({ ctx: "context", system: true, pid: 4, threadPid: 4, processId: 4, io: true });
    expect(r.seen.tid).toBe(r.clientTid);
    expect(r.threadId).toBe(r.clientTid);
    expect(r.clientPid).toBe(4);
  });

  it("PsTerminateSystemThread ends the thread with its status; nothing after it runs", async () => {
    const r = await machine.exec(async () => {
      const after: string[] = [];
      const created = PsCreateSystemThread(THREAD_ALL_ACCESS, kernelHandleAttributes(), null, async () => {
        await sleep100ns(10);
        PsTerminateSystemThread(STATUS_UNSUCCESSFUL);
        after.push("ran on");
      }, null);
      const { exit } = await join(created.ThreadHandle);
      return { exit, after };
    });
    expect(r).toEqual({ exit: STATUS_UNSUCCESSFUL, after: [] });
  });

  it("a thread handle without OBJ_KERNEL_HANDLE is a System-process handle; the object outlives the thread while referenced", async () => {
    const r = await machine.exec(async () => {
      const created = PsCreateSystemThread(THREAD_ALL_ACCESS, null, null, () => {}, null);
      const ref = ObReferenceObjectByHandle<ETHREAD>(created.ThreadHandle, SYNCHRONIZE, PsThreadType, KPROCESSOR_MODE.KernelMode);
      await ZwClose(created.ThreadHandle);
      const wait = await KeWaitForSingleObject(ref.Object!, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, -10_000_000);
      const header = OB().headerOf(ref.Object!)!;
      const alive = !header.deleted;
      ObDereferenceObject(ref.Object!);
      return { kernel: ObIsKernelHandle(created.ThreadHandle), wait, alive, deleted: header.deleted };
    });
    expect(r).toEqual({ kernel: false, wait: STATUS_SUCCESS, alive: true, deleted: true });
  });

  it("ProcessHandle NtCurrentProcess() creates the thread in the caller's process", async () => {
    const r = await machine.exec(async () => {
      let pid = -1;
      const created = PsCreateSystemThread(THREAD_ALL_ACCESS, kernelHandleAttributes(), NtCurrentProcess, () => {
        pid = PsGetCurrentProcessId();
      }, null);
      await join(created.ThreadHandle);
      return { status: created.status, pid };
    });
    expect(r).toEqual({ status: STATUS_SUCCESS, pid: 4 });
  });

  it("a thread PsCreateSystemThread did not make gets STATUS_INVALID_PARAMETER from PsTerminateSystemThread (it goes on)", async () => {
    const r = await machine.exec(() => PsTerminateSystemThread(STATUS_SUCCESS));
    expect(r).toBe(STATUS_INVALID_PARAMETER);
  });

  it("a user thread is not a system thread: PsIsSystemThread FALSE, its process id is the program's", async () => {
    const r = await machine.runProgram("ps-user", async () => {
      const me = PsGetCurrentThread()!;
      let child = { system: true, pid: 0 };
      const h = CreateThread(null, 0, () => {
        child = { system: PsIsSystemThread(PsGetCurrentThread()!), pid: PsGetCurrentProcessId() };
        return 0;
      }, null, 0);
      await WaitForSingleObject(h, 0xFFFFFFFF);
      await CloseHandle(h);
      return { system: PsIsSystemThread(me), pid: PsGetCurrentProcessId(), processPid: PsGetProcessId(PsGetCurrentProcess()), child };
    });
    expect(r.system).toBe(false);
    expect(r.pid).not.toBe(4);
    expect(r.processPid).toBe(r.pid);
    expect(r.child).toEqual({ system: false, pid: r.pid });
  });

  it("waiting on a running thread's object with a timeout times out", async () => {
    const r = await machine.exec(async () => {
      const created = PsCreateSystemThread(THREAD_ALL_ACCESS, kernelHandleAttributes(), null, async () => {
        await sleep100ns(100_000);
      }, null);
      const ref = ObReferenceObjectByHandle<ETHREAD>(created.ThreadHandle, SYNCHRONIZE, PsThreadType, KPROCESSOR_MODE.KernelMode);
      const early = await KeWaitForSingleObject(ref.Object!, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, -1000);
      ObDereferenceObject(ref.Object!);
      await join(created.ThreadHandle);
      return early;
    });
    expect(r).toBe(STATUS_TIMEOUT);
  });

  it("PsCreateSystemThread above PASSIVE_LEVEL is 0xC4 / 0x2001C (IrqlPsPassive) under the verifier", async () => {
    const bc = await crash(() => {
      KeRaiseIrql(DISPATCH_LEVEL);
      PsCreateSystemThread(THREAD_ALL_ACCESS, null, null, () => {}, null);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_PS_PASSIVE);
  });
});
