/**
 * Object types: OBJECT_TYPE and the types the kernel exports to drivers under their wdm.h
 * names (IoFileObjectType, ExEventObjectType, PsThreadType, ...), plus the object
 * manager's own (Directory, SymbolicLink). A type names its objects, says which access
 * rights they have and how generic rights map onto them, and carries the procedures the
 * object manager calls: CloseProcedure when a handle to an object is closed, and
 * DeleteProcedure when the object's last reference goes. The layer that owns a type's
 * objects installs its procedures (the I/O manager installs the file object's, which send
 * IRP_MJ_CLEANUP and IRP_MJ_CLOSE).
 *
 * Types are shared by every machine (they are descriptions); what a machine counts per
 * type (objects, handles) lives in its object manager.
 */
import {
  DIRECTORY_ALL_ACCESS, DIRECTORY_CREATE_OBJECT, DIRECTORY_CREATE_SUBDIRECTORY, DIRECTORY_QUERY, DIRECTORY_TRAVERSE, EVENT_ALL_ACCESS,
  EVENT_MODIFY_STATE, EVENT_QUERY_STATE, FILE_ALL_ACCESS, FILE_GENERIC_MAPPING, PROCESS_ALL_ACCESS,
  PROCESS_CREATE_PROCESS, PROCESS_CREATE_THREAD, PROCESS_DUP_HANDLE, PROCESS_QUERY_INFORMATION, PROCESS_SET_INFORMATION, PROCESS_SET_QUOTA,
  PROCESS_SUSPEND_RESUME, PROCESS_TERMINATE, PROCESS_VM_OPERATION, PROCESS_VM_READ, PROCESS_VM_WRITE, SEMAPHORE_ALL_ACCESS,
  SEMAPHORE_MODIFY_STATE, SEMAPHORE_QUERY_STATE, STANDARD_RIGHTS_EXECUTE, STANDARD_RIGHTS_READ, STANDARD_RIGHTS_REQUIRED, STANDARD_RIGHTS_WRITE,
  SYMBOLIC_LINK_ALL_ACCESS, SYMBOLIC_LINK_QUERY, SYNCHRONIZE, THREAD_ALERT, THREAD_ALL_ACCESS, THREAD_GET_CONTEXT, THREAD_QUERY_INFORMATION,
  THREAD_SET_CONTEXT, THREAD_SET_INFORMATION, THREAD_SUSPEND_RESUME, THREAD_TERMINATE, TOKEN_ALL_ACCESS, TOKEN_QUERY, type ACCESS_MASK,
  type GENERIC_MAPPING,
} from "./access.js";

/** Called when a handle to an object of the type is closed; `HandleCount` is what is left open (0: the last one). */
export type OB_CLOSE_METHOD = (Object: object, HandleCount: number) => void | Promise<void>;
/** Called when an object's last reference goes (the object's memory goes with it). */
export type OB_DELETE_METHOD = (Object: object) => void | Promise<void>;

/** OBJECT_TYPE_INITIALIZER: what a type's objects allow and the procedures the object manager calls. */
export class OBJECT_TYPE_INITIALIZER {
  /** Every right an object of the type has. */
  ValidAccessMask: ACCESS_MASK;
  GenericMapping: GENERIC_MAPPING;
  /** Objects of the type can be waited on (they start with a DISPATCHER_HEADER). */
  readonly Synchronize: boolean;
  CloseProcedure: OB_CLOSE_METHOD | null = null;
  DeleteProcedure: OB_DELETE_METHOD | null = null;

  constructor(ValidAccessMask: ACCESS_MASK, GenericMapping: GENERIC_MAPPING, Synchronize: boolean) {
    this.ValidAccessMask = ValidAccessMask;
    this.GenericMapping = GenericMapping;
    this.Synchronize = Synchronize;
  }
}

/** OBJECT_TYPE: a kind of object (POBJECT_TYPE in C). */
export class OBJECT_TYPE {
  /** The type's name, as !object prints it ("File", "Event", ...). */
  readonly Name: string;
  readonly TypeInfo: OBJECT_TYPE_INITIALIZER;
  /** Index of the type (its position in \ObjectTypes), stable across machines. */
  readonly Index: number;

  constructor(Name: string, Index: number, TypeInfo: OBJECT_TYPE_INITIALIZER) {
    this.Name = Name;
    this.Index = Index;
    this.TypeInfo = TypeInfo;
  }
}

function mapping(GenericRead: ACCESS_MASK, GenericWrite: ACCESS_MASK, GenericExecute: ACCESS_MASK, GenericAll: ACCESS_MASK): GENERIC_MAPPING {
  return Object.freeze({ GenericRead, GenericWrite, GenericExecute, GenericAll });
}

function type(name: string, index: number, valid: ACCESS_MASK, map: GENERIC_MAPPING, synchronize: boolean): OBJECT_TYPE {
  return new OBJECT_TYPE(name, index, new OBJECT_TYPE_INITIALIZER(valid, map, synchronize));
}

/** The type of object types themselves ("Type"). */
export const ObpTypeObjectType = type("Type", 2, STANDARD_RIGHTS_REQUIRED | 0x1, mapping(STANDARD_RIGHTS_READ, STANDARD_RIGHTS_WRITE, STANDARD_RIGHTS_EXECUTE, STANDARD_RIGHTS_REQUIRED | 0x1), false);
/** Object directories ("Directory"). */
export const ObpDirectoryObjectType = type("Directory", 3, DIRECTORY_ALL_ACCESS, mapping(
  STANDARD_RIGHTS_READ | DIRECTORY_QUERY | DIRECTORY_TRAVERSE, STANDARD_RIGHTS_WRITE | DIRECTORY_CREATE_OBJECT | DIRECTORY_CREATE_SUBDIRECTORY,
  STANDARD_RIGHTS_EXECUTE | DIRECTORY_QUERY | DIRECTORY_TRAVERSE, DIRECTORY_ALL_ACCESS), false);
/** Symbolic links ("SymbolicLink"). */
export const ObpSymbolicLinkObjectType = type("SymbolicLink", 4, SYMBOLIC_LINK_ALL_ACCESS, mapping(
  STANDARD_RIGHTS_READ | SYMBOLIC_LINK_QUERY, STANDARD_RIGHTS_WRITE, STANDARD_RIGHTS_EXECUTE | SYMBOLIC_LINK_QUERY, SYMBOLIC_LINK_ALL_ACCESS), false);
/** SeTokenObjectType: access tokens ("Token"). */
export const SeTokenObjectType = type("Token", 5, TOKEN_ALL_ACCESS, mapping(
  STANDARD_RIGHTS_READ | TOKEN_QUERY | 0x2, STANDARD_RIGHTS_WRITE | 0x20 | 0x40 | 0x80 | 0x100, STANDARD_RIGHTS_EXECUTE, TOKEN_ALL_ACCESS), false);
/** PsProcessType: processes ("Process"). */
export const PsProcessType = type("Process", 7, PROCESS_ALL_ACCESS, mapping(
  STANDARD_RIGHTS_READ | PROCESS_VM_READ | PROCESS_QUERY_INFORMATION,
  STANDARD_RIGHTS_WRITE | PROCESS_CREATE_PROCESS | PROCESS_CREATE_THREAD | PROCESS_VM_OPERATION | PROCESS_VM_WRITE | PROCESS_DUP_HANDLE
    | PROCESS_TERMINATE | PROCESS_SET_QUOTA | PROCESS_SET_INFORMATION | PROCESS_SUSPEND_RESUME,
  STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, PROCESS_ALL_ACCESS), true);
/** PsThreadType: threads ("Thread"). */
export const PsThreadType = type("Thread", 8, THREAD_ALL_ACCESS, mapping(
  STANDARD_RIGHTS_READ | THREAD_GET_CONTEXT | THREAD_QUERY_INFORMATION,
  STANDARD_RIGHTS_WRITE | THREAD_TERMINATE | THREAD_SUSPEND_RESUME | THREAD_ALERT | THREAD_SET_INFORMATION | THREAD_SET_CONTEXT,
  STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, THREAD_ALL_ACCESS), true);
/** ExEventObjectType: events ("Event"). */
export const ExEventObjectType = type("Event", 16, EVENT_ALL_ACCESS, mapping(
  STANDARD_RIGHTS_READ | EVENT_QUERY_STATE, STANDARD_RIGHTS_WRITE | EVENT_MODIFY_STATE, STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, EVENT_ALL_ACCESS), true);
/** ExSemaphoreObjectType: semaphores ("Semaphore"). */
export const ExSemaphoreObjectType = type("Semaphore", 19, SEMAPHORE_ALL_ACCESS, mapping(
  STANDARD_RIGHTS_READ | SEMAPHORE_QUERY_STATE, STANDARD_RIGHTS_WRITE | SEMAPHORE_MODIFY_STATE, STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE,
  SEMAPHORE_ALL_ACCESS), true);
/** The I/O manager's completion ports ("IoCompletion"). */
export const IoCompletionObjectType = type("IoCompletion", 34, STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3, mapping(
  STANDARD_RIGHTS_READ | 0x1, STANDARD_RIGHTS_WRITE | 0x2, STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3), true);
/** IoFileObjectType: file objects, open instances of devices ("File"). */
export const IoFileObjectType = type("File", 37, FILE_ALL_ACCESS, FILE_GENERIC_MAPPING, true);
/** IoDeviceObjectType: device objects ("Device"). */
export const IoDeviceObjectType = type("Device", 35, FILE_ALL_ACCESS, FILE_GENERIC_MAPPING, false);
/** IoDriverObjectType: driver objects ("Driver"). */
export const IoDriverObjectType = type("Driver", 36, FILE_ALL_ACCESS, FILE_GENERIC_MAPPING, false);

/** Every type, in index order (the \ObjectTypes directory). */
export const OBJECT_TYPES: readonly OBJECT_TYPE[] = [
  ObpTypeObjectType, ObpDirectoryObjectType, ObpSymbolicLinkObjectType, SeTokenObjectType, PsProcessType, PsThreadType, ExEventObjectType,
  ExSemaphoreObjectType, IoCompletionObjectType, IoDeviceObjectType, IoDriverObjectType, IoFileObjectType,
];
