// Object references as the WDK documents them: ObReferenceObject / ObDereferenceObject (and the
// Obf and WithTag forms) return the new pointer count, ObReferenceObjectByPointer checks the type,
// ObGetObjectType names it, the last reference deletes the object, and a count taken below zero
// (or to zero with handles still open) is bug check 0x18 REFERENCE_BY_POINTER (P1 object type,
// P2 object).
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, ObReferenceObject, ObDereferenceObject, ObfReferenceObject, ObfDereferenceObject, ObReferenceObjectWithTag,
  ObDereferenceObjectWithTag, ObReferenceObjectByPointer, ObGetObjectType, ObReferenceObjectByHandle, ObReferenceObjectByName, ZwCreateEvent,
  ZwClose, OBJECT_ATTRIBUTES, InitializeObjectAttributes, OBJ_KERNEL_HANDLE, EVENT_TYPE, EVENT_ALL_ACCESS, KEVENT, KeInitializeEvent,
  KPROCESSOR_MODE, ExEventObjectType, IoDeviceObjectType, IoFileObjectType, PsProcessType, PsGetCurrentProcess, STATUS_SUCCESS,
  STATUS_OBJECT_TYPE_MISMATCH, STATUS_ACCESS_VIOLATION, REFERENCE_BY_POINTER, KMODE_EXCEPTION_NOT_HANDLED, type DEVICE_OBJECT,
} from "../../src/index.js";
import { bootDefault, bugCheckOf, crash, expectBugCheck, kernelOf, params } from "../support/kernel-harness.js";
import { OB } from "../../src/ob/manager.js";

/** An unnamed event object and a kernel handle to it (the handle holds the only reference). */
function kernelEvent(): { event: KEVENT; handle: number } {
  const oa = new OBJECT_ATTRIBUTES();
  InitializeObjectAttributes(oa, null, OBJ_KERNEL_HANDLE, null, null);
  const { status, EventHandle } = ZwCreateEvent(EVENT_ALL_ACCESS, oa, EVENT_TYPE.NotificationEvent, false);
  if (status !== STATUS_SUCCESS) throw new Error(`ZwCreateEvent: ${status}`);
  const r = ObReferenceObjectByHandle<KEVENT>(EventHandle, 0, ExEventObjectType, KPROCESSOR_MODE.KernelMode);
  ObDereferenceObject(r.Object!);
  return { event: r.Object!, handle: EventHandle };
}

describe("object references", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("ObReferenceObject and ObDereferenceObject return the new pointer count; the Obf forms do the same", async () => {
    const counts = await machine.exec(() => {
      const { event, handle } = kernelEvent();
      const r = [ObReferenceObject(event), ObfReferenceObject(event), ObfDereferenceObject(event), ObDereferenceObject(event)];
      void ZwClose(handle);
      return r;
    });
    // The handle holds one reference.
    expect(counts).toEqual([2, 3, 2, 1]);
  });

  it("the last reference deletes the object: closing the handle while a driver holds a reference keeps it until ObDereferenceObject", async () => {
    const r = await machine.exec(async () => {
      const { event, handle } = kernelEvent();
      const h = OB().headerOf(event)!;
      const objectsBefore = OB().countsOf(ExEventObjectType).TotalNumberOfObjects;
      ObReferenceObject(event);
      await ZwClose(handle);
      const afterClose = { deleted: h.deleted, handles: h.HandleCount, pointers: h.PointerCount };
      ObDereferenceObject(event);
      return { afterClose, deleted: h.deleted, objects: OB().countsOf(ExEventObjectType).TotalNumberOfObjects - objectsBefore };
    });
    expect(r.afterClose).toEqual({ deleted: false, handles: 0, pointers: 1 });
    expect(r.deleted).toBe(true);
    expect(r.objects).toBe(-1);
  });

  it("ObReferenceObjectWithTag / ObDereferenceObjectWithTag count like the untagged forms and record the tag", async () => {
    const r = await machine.exec(() => {
      const { event, handle } = kernelEvent();
      const up = ObReferenceObjectWithTag(event, "ObTt");
      const tags = [...(OB().headerOf(event)!.tags ?? new Map()).values()];
      const down = ObDereferenceObjectWithTag(event, "ObTt");
      const left = OB().headerOf(event)!.tags?.size ?? 0;
      void ZwClose(handle);
      return { up, tags, down, left };
    });
    expect(r).toEqual({ up: 2, tags: [1], down: 1, left: 0 });
  });

  it("ObReferenceObjectByPointer references an object of the given type (any with null) and refuses another type with STATUS_OBJECT_TYPE_MISMATCH", async () => {
    const r = await machine.exec(() => {
      const { event, handle } = kernelEvent();
      const ok = ObReferenceObjectByPointer(event, 0, ExEventObjectType, KPROCESSOR_MODE.KernelMode);
      const any = ObReferenceObjectByPointer(event, 0, null, KPROCESSOR_MODE.KernelMode);
      const wrong = ObReferenceObjectByPointer(event, 0, IoFileObjectType, KPROCESSOR_MODE.KernelMode);
      const count = OB().headerOf(event)!.PointerCount;
      ObDereferenceObject(event);
      ObDereferenceObject(event);
      void ZwClose(handle);
      return { ok, any, wrong, count };
    });
    expect(r).toEqual({ ok: STATUS_SUCCESS, any: STATUS_SUCCESS, wrong: STATUS_OBJECT_TYPE_MISMATCH, count: 3 });
  });

  it("ObGetObjectType names the type: Event, Device, Process", async () => {
    const r = await machine.exec(() => {
      const { event, handle } = kernelEvent();
      const edu = ObReferenceObjectByName<DEVICE_OBJECT>("\\Device\\Edu0", 0, null, 0, IoDeviceObjectType, KPROCESSOR_MODE.KernelMode, null).Object!;
      const names = [ObGetObjectType(event), ObGetObjectType(edu), ObGetObjectType(PsGetCurrentProcess())].map((t) => t.Name);
      ObDereferenceObject(edu);
      void ZwClose(handle);
      return { names, process: ObGetObjectType(PsGetCurrentProcess()) === PsProcessType };
    });
    expect(r).toEqual({ names: ["Event", "Device", "Process"], process: true });
  });

  it("dereferencing an object whose last reference is gone is 0x18 REFERENCE_BY_POINTER (P1 the object type, P2 the object)", async () => {
    const m = await bootDefault();
    let type = 0;
    let body = 0;
    const bc = await bugCheckOf(m.exec(async () => {
      const { event, handle } = kernelEvent();
      type = OB().typeAddress(ExEventObjectType);
      body = OB().headerOf(event)!.bodyAddress;
      ObReferenceObject(event);
      await ZwClose(handle);
      ObDereferenceObject(event);
      ObDereferenceObject(event);
    }));
    expectBugCheck(bc, REFERENCE_BY_POINTER, type, body, 0, 0);
    expect(bc.bugCheckName).toBe("REFERENCE_BY_POINTER");
  });

  it("taking the pointer count to zero while a handle is still open is 0x18 too (with or without the verifier)", async () => {
    for (const verifier of [true, false]) {
      const bc = await crash(() => {
        const { event } = kernelEvent();
        // The handle's own reference is dropped by a driver that never took one.
        ObDereferenceObject(event);
      }, {}, { verifier });
      expectBugCheck(bc, REFERENCE_BY_POINTER);
      expect(params(bc)[1]).not.toBe(0);
    }
  });

  it("referencing something that is not an object (a KEVENT the driver initialised itself) raises an access violation: 0x1E", async () => {
    const bc = await crash(() => {
      const e = new KEVENT();
      KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
      ObReferenceObject(e);
    });
    expectBugCheck(bc, KMODE_EXCEPTION_NOT_HANDLED, STATUS_ACCESS_VIOLATION);
  });

  it("the machine's object manager counts objects per type", () => {
    const k = kernelOf(machine);
    expect(OB(k).countsOf(IoDeviceObjectType).TotalNumberOfObjects).toBeGreaterThan(0);
  });
});
