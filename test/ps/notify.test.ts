// Notify routines as the WDK documents them: PsSetCreateProcessNotifyRoutineEx (CreateInfo on
// creation, NULL on exit; CreationStatus fails the creation; STATUS_INVALID_PARAMETER for a routine
// registered twice or removed unregistered), PsSetCreateThreadNotifyRoutine /
// PsRemoveCreateThreadNotifyRoutine (STATUS_PROCEDURE_NOT_FOUND), PsSetLoadImageNotifyRoutine
// (drivers: ProcessId 0, SystemModeImage 1), all PASSIVE_LEVEL (IrqlPsPassive 0x2001C).
import { describe, expect, it } from "vitest";
import {
  type KPROCESS, type PS_CREATE_NOTIFY_INFO, type IMAGE_INFO, PsSetCreateProcessNotifyRoutineEx, PsSetCreateThreadNotifyRoutine,
  PsRemoveCreateThreadNotifyRoutine, PsSetLoadImageNotifyRoutine, PsRemoveLoadImageNotifyRoutine, PsCreateSystemThread, PsGetCurrentProcessId,
  PsGetCurrentThreadId, ObReferenceObjectByHandle, ObDereferenceObject, KeWaitForSingleObject, ZwClose, KWAIT_REASON, KPROCESSOR_MODE, PsThreadType,
  THREAD_ALL_ACCESS, SYNCHRONIZE, STATUS_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_PROCEDURE_NOT_FOUND, STATUS_ACCESS_DENIED, NtStatusException,
  DISPATCH_LEVEL, KeRaiseIrql, DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_PS_PASSIVE, CreateThread, WaitForSingleObject, CloseHandle,
  GetCurrentThreadId, type ETHREAD,
} from "../../src/index.js";
import { asDriver, bootDefault, crash, createTestDriver, expectBugCheck } from "../support/kernel-harness.js";
import { KE } from "../../src/ke/kernel.js";

describe("process, thread and image notify routines", () => {
  it("process callbacks see a user process created (CreateInfo: parent, image name) and exit (CreateInfo null), attributed to their driver", async () => {
    const machine = await bootDefault();
    const calls: { pid: number; name: string; info: PS_CREATE_NOTIFY_INFO | null; driver: string }[] = [];
    function OnProcess(Process: KPROCESS, ProcessId: number, CreateInfo: PS_CREATE_NOTIFY_INFO | null): void {
      calls.push({ pid: ProcessId, name: Process.ImageFileName, info: CreateInfo, driver: KE().attribution().driver });
    }
    const registered = await machine.exec(() => asDriver("watcher", "DriverEntry", () => [PsSetCreateProcessNotifyRoutineEx(OnProcess, false), PsSetCreateProcessNotifyRoutineEx(OnProcess, false)]));
    const pid = await machine.runProgram("notified", async () => PsGetCurrentProcessId());
    const removed = await machine.exec(() => [PsSetCreateProcessNotifyRoutineEx(OnProcess, true), PsSetCreateProcessNotifyRoutineEx(OnProcess, true)]);
    await machine.runProgram("unnoticed", async () => 0);
    expect(registered).toEqual([STATUS_SUCCESS, STATUS_INVALID_PARAMETER]);
    expect(removed).toEqual([STATUS_SUCCESS, STATUS_INVALID_PARAMETER]);
    expect(calls.map((c) => [c.pid, c.name, c.info === null, c.driver])).toEqual([[pid, "notified", false, "watcher"], [pid, "notified", true, "watcher"]]);
    expect(calls[0].info).toMatchObject({ ParentProcessId: 4, ImageFileName: "notified", CreationStatus: STATUS_SUCCESS });
  });

  it("a process callback that sets CreationStatus to an error fails the creation: the program never runs", async () => {
    const machine = await bootDefault();
    let ran = false;
    await machine.exec(() => PsSetCreateProcessNotifyRoutineEx(function Deny(_p, _id, info) {
      if (info) info.CreationStatus = STATUS_ACCESS_DENIED;
    }, false));
    const outcome = await machine.runProgram("denied", async () => {
      ran = true;
    }).then(() => "ran", (e) => e);
    expect(outcome).toBeInstanceOf(NtStatusException);
    expect((outcome as NtStatusException).status).toBe(STATUS_ACCESS_DENIED);
    expect(ran).toBe(false);
  });

  it("thread callbacks see system threads and user threads start (TRUE, in the new thread) and end (FALSE); PsRemoveCreateThreadNotifyRoutine stops them", async () => {
    const machine = await bootDefault();
    const calls: [number, number, boolean, number][] = [];
    function OnThread(ProcessId: number, ThreadId: number, Create: boolean): void {
      calls.push([ProcessId, ThreadId, Create, PsGetCurrentThreadId()]);
    }
    expect(await machine.exec(() => PsSetCreateThreadNotifyRoutine(OnThread))).toBe(STATUS_SUCCESS);
    const system = await machine.exec(async () => {
      const t = PsCreateSystemThread(THREAD_ALL_ACCESS, null, null, () => {}, null);
      const ref = ObReferenceObjectByHandle<ETHREAD>(t.ThreadHandle, SYNCHRONIZE, PsThreadType, KPROCESSOR_MODE.KernelMode);
      await KeWaitForSingleObject(ref.Object!, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
      ObDereferenceObject(ref.Object!);
      await ZwClose(t.ThreadHandle);
      return t.ClientId!.UniqueThread;
    });
    const user = await machine.runProgram("threads", async () => {
      let child = 0;
      const h = CreateThread(null, 0, () => {
        child = GetCurrentThreadId();
        return 0;
      }, null, 0);
      await WaitForSingleObject(h, 0xFFFFFFFF);
      await CloseHandle(h);
      return { main: GetCurrentThreadId(), child, pid: PsGetCurrentProcessId() };
    });
    const removed = await machine.exec(() => [PsRemoveCreateThreadNotifyRoutine(OnThread), PsRemoveCreateThreadNotifyRoutine(OnThread)]);
    const before = calls.length;
    await machine.runProgram("quiet", async () => 0);
    expect(removed).toEqual([STATUS_SUCCESS, STATUS_PROCEDURE_NOT_FOUND]);
    expect(calls.length).toBe(before);
    expect(calls).toEqual([
      [4, system, true, system], [4, system, false, system],
      [user.pid, user.main, true, user.main], [user.pid, user.child, true, user.child], [user.pid, user.child, false, user.child],
      [user.pid, user.main, false, user.main],
    ]);
  });

  it("image callbacks see a driver load before its DriverEntry (ProcessId 0, SystemModeImage 1) and a program's executable (its process id)", async () => {
    const machine = await bootDefault();
    const calls: [string, number, number][] = [];
    function OnImage(FullImageName: string, ProcessId: number, ImageInfo: IMAGE_INFO): void {
      calls.push([FullImageName, ProcessId, ImageInfo.SystemModeImage]);
    }
    const status = await machine.exec(() => PsSetLoadImageNotifyRoutine(OnImage));
    const service = await machine.exec(async () => (await createTestDriver("imgtest")).serviceName);
    const pid = await machine.runProgram("imaged", async () => PsGetCurrentProcessId());
    const removed = await machine.exec(() => [PsRemoveLoadImageNotifyRoutine(OnImage), PsRemoveLoadImageNotifyRoutine(OnImage)]);
    expect(status).toBe(STATUS_SUCCESS);
    expect(calls).toEqual([[`\\SystemRoot\\System32\\drivers\\${service}.sys`, 0, 1], ["\\Device\\HarddiskVolume1\\Programs\\imaged.exe", pid, 0]]);
    expect(removed).toEqual([STATUS_SUCCESS, STATUS_PROCEDURE_NOT_FOUND]);
  });

  it("registering above PASSIVE_LEVEL is 0xC4 / 0x2001C (IrqlPsPassive) under the verifier", async () => {
    const bc = await crash(() => {
      KeRaiseIrql(DISPATCH_LEVEL);
      PsSetCreateThreadNotifyRoutine(() => {});
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_PS_PASSIVE);
  });
});
