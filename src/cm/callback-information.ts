/**
 * The structures a RegistryCallback routine receives as Argument2 (wdm.h
 * REG_XXX_KEY_INFORMATION), with the WDK's field names. They are TypeScript objects (the
 * configuration manager's bookkeeping); what their pointers point to is guest memory or an
 * object as in C:
 *
 * - `Object`, `RootObject`: the key object (the body of an object of CmKeyObjectType) the
 *   operation is on; ObOpenObjectByPointer opens a handle to it.
 * - Names (`CompleteName`, `RemainingName`, `ValueName`, `Class`) are UNICODE_STRINGs
 *   whose characters are in guest memory.
 * - `Data` (a value's bytes) and the information buffers are guest addresses.
 * - C's output pointers (`PVOID *ResultObject`, `PULONG Disposition`, `PULONG
 *   ResultLength`) are the values they point to: a callback that bypasses an operation
 *   writes them (`PreInfo.ResultObject = Object` for `*PreInfo->ResultObject = Object`),
 *   and the caller of the registry routine receives what is there.
 *
 * Since Windows 8 every input the structures describe is captured in kernel memory before
 * a callback sees it, also when the caller is in user mode (ExGetPreviousMode() ==
 * UserMode); output buffers are only probed.
 */
import type { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import type { NTSTATUS } from "../ke/ntstatus.js";
import type { PVOID } from "../mm/memory.js";
import type { ACCESS_MASK } from "../ob/access.js";
import type { OBJECT_TYPE } from "../ob/object-type.js";
import type { UNICODE_STRING } from "../rtl/unicode-string.js";
import type { KEY_INFORMATION_CLASS, KEY_VALUE_INFORMATION_CLASS } from "./information.js";

/** Version of REG_CREATE_KEY_INFORMATION_V1 / REG_OPEN_KEY_INFORMATION_V1 (what Windows 7 and later pass). */
export const REG_CREATE_KEY_INFORMATION_VERSION_1 = 1;

/**
 * REG_CREATE_KEY_INFORMATION_V1 (also REG_OPEN_KEY_INFORMATION_V1): RegNtPreCreateKeyEx /
 * RegNtPreOpenKeyEx. Windows 7 and later always pass version 1, so the same object also
 * answers to the version-0 names (REG_CREATE_KEY_INFORMATION's CreateOptions and Reserved
 * are V1's Options and Version).
 */
export class REG_CREATE_KEY_INFORMATION_V1 {
  /** The path as the caller gave it: relative to RootObject, or absolute ("\\REGISTRY\\..."). */
  CompleteName: UNICODE_STRING;
  /** The key object the path starts at (the \REGISTRY key for an absolute path). */
  RootObject: object;
  /** CmKeyObjectType. */
  ObjectType: OBJECT_TYPE;
  /** REG_OPTION_XXX the caller passed. */
  Options: number;
  /** The class the caller passed (create), or null. */
  Class: UNICODE_STRING | null = null;
  SecurityDescriptor: unknown = null;
  SecurityQualityOfService: unknown = null;
  DesiredAccess: ACCESS_MASK;
  /** The access the new handle has, set by a callback that bypasses the operation. */
  GrantedAccess: ACCESS_MASK = 0;
  /** What the caller's Disposition receives (REG_CREATED_NEW_KEY / REG_OPENED_EXISTING_KEY) when a callback bypasses a create. */
  Disposition = 0;
  /** The key object the caller's handle will be opened to: set (referenced) by a callback that bypasses the operation. */
  ResultObject: object | null = null;
  /** A callback's own value, handed back to it in the post-notification's CallContext. */
  CallContext: unknown = null;
  /** The calling callback's object context of RootObject (CmSetCallbackObjectContext). */
  RootObjectContext: unknown = null;
  /** The transaction the operation belongs to (a transacted root key's), or null. */
  Transaction: object | null = null;
  /** REG_CREATE_KEY_INFORMATION_VERSION_1. */
  Version = REG_CREATE_KEY_INFORMATION_VERSION_1;
  /** The path left to resolve below RootObject (for an absolute path: without "\\REGISTRY\\"). */
  RemainingName: UNICODE_STRING;
  Wow64Flags = 0;
  /** The OBJ_XXX attributes of the caller's OBJECT_ATTRIBUTES. */
  Attributes: number;
  /** The mode access is checked in: UserMode for a user-mode caller or OBJ_FORCE_ACCESS_CHECK, otherwise KernelMode. */
  CheckAccessMode: KPROCESSOR_MODE;

  constructor(CompleteName: UNICODE_STRING, RemainingName: UNICODE_STRING, RootObject: object, ObjectType: OBJECT_TYPE, Options: number, DesiredAccess: ACCESS_MASK, Attributes: number, CheckAccessMode: KPROCESSOR_MODE) {
    this.CompleteName = CompleteName;
    this.RemainingName = RemainingName;
    this.RootObject = RootObject;
    this.ObjectType = ObjectType;
    this.Options = Options;
    this.DesiredAccess = DesiredAccess;
    this.Attributes = Attributes;
    this.CheckAccessMode = CheckAccessMode;
  }

  /** REG_CREATE_KEY_INFORMATION's name for Options. */
  get CreateOptions(): number {
    return this.Options;
  }
  set CreateOptions(value: number) {
    this.Options = value;
  }

  /** REG_CREATE_KEY_INFORMATION's name for Version. */
  get Reserved(): number {
    return this.Version;
  }
}

/** REG_CREATE_KEY_INFORMATION: the version-0 view of what RegNtPreCreateKeyEx receives (the same object). */
export type REG_CREATE_KEY_INFORMATION = REG_CREATE_KEY_INFORMATION_V1;
/** REG_OPEN_KEY_INFORMATION_V1: what RegNtPreOpenKeyEx receives (the same layout as create's). */
export type REG_OPEN_KEY_INFORMATION_V1 = REG_CREATE_KEY_INFORMATION_V1;
/** REG_OPEN_KEY_INFORMATION: the version-0 view of REG_OPEN_KEY_INFORMATION_V1. */
export type REG_OPEN_KEY_INFORMATION = REG_CREATE_KEY_INFORMATION_V1;

/** The fields every operation on an open key has. */
export class REG_KEY_OPERATION_INFORMATION {
  /** The key object the operation is on. */
  Object: object;
  /** A callback's own value, handed back to it in the post-notification's CallContext. */
  CallContext: unknown = null;
  /** The calling callback's object context of Object (CmSetCallbackObjectContext), or null. */
  ObjectContext: unknown = null;
  Reserved: unknown = null;

  constructor(Object: object) {
    this.Object = Object;
  }
}

/** REG_DELETE_KEY_INFORMATION: RegNtPreDeleteKey. */
export class REG_DELETE_KEY_INFORMATION extends REG_KEY_OPERATION_INFORMATION {}

/** REG_FLUSH_KEY_INFORMATION: RegNtPreFlushKey. */
export class REG_FLUSH_KEY_INFORMATION extends REG_KEY_OPERATION_INFORMATION {}

/** REG_KEY_HANDLE_CLOSE_INFORMATION: RegNtPreKeyHandleClose. */
export class REG_KEY_HANDLE_CLOSE_INFORMATION extends REG_KEY_OPERATION_INFORMATION {}

/** REG_SET_VALUE_KEY_INFORMATION: RegNtPreSetValueKey. */
export class REG_SET_VALUE_KEY_INFORMATION extends REG_KEY_OPERATION_INFORMATION {
  constructor(
    Object: object,
    public ValueName: UNICODE_STRING,
    public TitleIndex: number,
    /** REG_XXX type. */
    public Type: number,
    /** Guest address of the data (captured in kernel memory). */
    public Data: PVOID,
    /** Bytes of data. */
    public DataSize: number,
  ) {
    super(Object);
  }
}

/** REG_DELETE_VALUE_KEY_INFORMATION: RegNtPreDeleteValueKey. */
export class REG_DELETE_VALUE_KEY_INFORMATION extends REG_KEY_OPERATION_INFORMATION {
  constructor(Object: object, public ValueName: UNICODE_STRING) {
    super(Object);
  }
}

/** REG_QUERY_VALUE_KEY_INFORMATION: RegNtPreQueryValueKey. */
export class REG_QUERY_VALUE_KEY_INFORMATION extends REG_KEY_OPERATION_INFORMATION {
  /** What the caller's ResultLength receives (bytes), when a callback bypasses the operation. */
  ResultLength = 0;
  constructor(
    Object: object,
    public ValueName: UNICODE_STRING,
    public KeyValueInformationClass: KEY_VALUE_INFORMATION_CLASS,
    /** Guest address of the caller's output buffer. */
    public KeyValueInformation: PVOID,
    /** Bytes of the output buffer. */
    public Length: number,
  ) {
    super(Object);
  }
}

/** REG_ENUMERATE_VALUE_KEY_INFORMATION: RegNtPreEnumerateValueKey. */
export class REG_ENUMERATE_VALUE_KEY_INFORMATION extends REG_KEY_OPERATION_INFORMATION {
  /** What the caller's ResultLength receives (bytes), when a callback bypasses the operation. */
  ResultLength = 0;
  constructor(
    Object: object,
    public Index: number,
    public KeyValueInformationClass: KEY_VALUE_INFORMATION_CLASS,
    /** Guest address of the caller's output buffer. */
    public KeyValueInformation: PVOID,
    /** Bytes of the output buffer. */
    public Length: number,
  ) {
    super(Object);
  }
}

/** REG_ENUMERATE_KEY_INFORMATION: RegNtPreEnumerateKey. */
export class REG_ENUMERATE_KEY_INFORMATION extends REG_KEY_OPERATION_INFORMATION {
  /** What the caller's ResultLength receives (bytes), when a callback bypasses the operation. */
  ResultLength = 0;
  constructor(
    Object: object,
    public Index: number,
    public KeyInformationClass: KEY_INFORMATION_CLASS,
    /** Guest address of the caller's output buffer. */
    public KeyInformation: PVOID,
    /** Bytes of the output buffer. */
    public Length: number,
  ) {
    super(Object);
  }
}

/** REG_QUERY_KEY_INFORMATION: RegNtPreQueryKey. */
export class REG_QUERY_KEY_INFORMATION extends REG_KEY_OPERATION_INFORMATION {
  /** What the caller's ResultLength receives (bytes), when a callback bypasses the operation. */
  ResultLength = 0;
  constructor(
    Object: object,
    public KeyInformationClass: KEY_INFORMATION_CLASS,
    /** Guest address of the caller's output buffer. */
    public KeyInformation: PVOID,
    /** Bytes of the output buffer. */
    public Length: number,
  ) {
    super(Object);
  }
}

/** REG_POST_OPERATION_INFORMATION: every RegNtPostXxx notification. */
export class REG_POST_OPERATION_INFORMATION {
  /** The key object the operation completed on (create/open: the new key object; null when the operation failed). */
  Object: object | null;
  /** The status the registry will return for the operation (do not change it: set ReturnStatus and return STATUS_CALLBACK_BYPASS). */
  Status: NTSTATUS;
  /** The pre-notification's structure (REG_XXX_KEY_INFORMATION). */
  PreInformation: object;
  /** The status to return instead, when the callback returns STATUS_CALLBACK_BYPASS. */
  ReturnStatus: NTSTATUS = 0;
  /** What this callback stored in the pre-notification's CallContext. */
  CallContext: unknown;
  /** This callback's object context of Object, or null. */
  ObjectContext: unknown;
  Reserved: unknown = null;

  constructor(Object: object | null, Status: NTSTATUS, PreInformation: object, CallContext: unknown, ObjectContext: unknown) {
    this.Object = Object;
    this.Status = Status;
    this.PreInformation = PreInformation;
    this.CallContext = CallContext;
    this.ObjectContext = ObjectContext;
  }
}

/** REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION: RegNtCallbackObjectContextCleanup. */
export class REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION {
  constructor(
    /** The key object whose context goes. */
    public Object: object,
    /** The context the callback set with CmSetCallbackObjectContext. */
    public ObjectContext: unknown,
  ) {}
  Reserved: unknown = null;
}

/**
 * REG_PRE_CREATE_KEY_INFORMATION (also REG_PRE_OPEN_KEY_INFORMATION): what Windows XP
 * passed with RegNtPreCreateKey / RegNtPreOpenKey. This machine is Windows 10, which sends
 * RegNtPreCreateKeyEx / RegNtPreOpenKeyEx (REG_CREATE_KEY_INFORMATION_V1) instead.
 */
export class REG_PRE_CREATE_KEY_INFORMATION {
  constructor(public CompleteName: UNICODE_STRING) {}
}
/** REG_PRE_OPEN_KEY_INFORMATION: the same structure as REG_PRE_CREATE_KEY_INFORMATION. */
export type REG_PRE_OPEN_KEY_INFORMATION = REG_PRE_CREATE_KEY_INFORMATION;

/** REG_POST_CREATE_KEY_INFORMATION (also REG_POST_OPEN_KEY_INFORMATION): Windows XP's RegNtPostCreateKey / RegNtPostOpenKey structure (see REG_PRE_CREATE_KEY_INFORMATION). */
export class REG_POST_CREATE_KEY_INFORMATION {
  constructor(
    public CompleteName: UNICODE_STRING,
    /** The key object created, or null. */
    public Object: object | null,
    public Status: NTSTATUS,
  ) {}
}
/** REG_POST_OPEN_KEY_INFORMATION: the same structure as REG_POST_CREATE_KEY_INFORMATION. */
export type REG_POST_OPEN_KEY_INFORMATION = REG_POST_CREATE_KEY_INFORMATION;
