/**
 * The notify routines' types and the structures they receive: PS_CREATE_NOTIFY_INFO for
 * process creation, IMAGE_INFO for image loads.
 */
import type { NTSTATUS } from "../ke/ntstatus.js";
import type { KPROCESS } from "../ke/scheduler.js";
import type { HANDLE } from "../ob/handle-table.js";
import type { CLIENT_ID } from "./thread.js";

/** PS_CREATE_NOTIFY_INFO: what a process-creation callback is told about a new process. */
export class PS_CREATE_NOTIFY_INFO {
  /** sizeof(PS_CREATE_NOTIFY_INFO) on x64, bytes. */
  readonly Size = 0x48;
  /** ImageFileName is the exact name the process was opened with. */
  readonly FileOpenNameAvailable = true;
  readonly IsSubsystemProcess = false;
  /** Set by a callback to an error status to make the creation fail with it. */
  CreationStatus: NTSTATUS = 0;

  constructor(
    readonly ParentProcessId: HANDLE,
    readonly CreatingThreadId: CLIENT_ID,
    /** The executable's name. */
    readonly ImageFileName: string,
    /** The command line. */
    readonly CommandLine: string,
    /** The executable's file object (the model opens no file for it: null). */
    readonly FileObject: null = null,
  ) {}
}

/** IMAGE_INFO: what an image-load callback is told about the image. */
export class IMAGE_INFO {
  /** IMAGE_ADDRESSING_MODE_32BIT or 64-bit: 0 (the only mode here: x64). */
  readonly ImageAddressingMode = 0;
  /** 1 for a driver (kernel-mode image), 0 for a user-mode image. */
  readonly SystemModeImage: number;
  readonly ImageMappedToAllProcesses: number;
  readonly ExtendedInfoPresent = 0;
  /** Where the image starts: the model's code address of its entry point. */
  readonly ImageBase: number;
  readonly ImageSelector = 0;
  /** Bytes of the image (the model lays no image out: 0). */
  readonly ImageSize = 0;
  readonly ImageSectionNumber = 0;

  constructor(SystemModeImage: boolean, ImageBase: number) {
    this.SystemModeImage = SystemModeImage ? 1 : 0;
    this.ImageMappedToAllProcesses = SystemModeImage ? 1 : 0;
    this.ImageBase = ImageBase;
  }
}

/** PCREATE_PROCESS_NOTIFY_ROUTINE_EX(Process, ProcessId, CreateInfo): CreateInfo null when the process exits. */
export type PCREATE_PROCESS_NOTIFY_ROUTINE_EX = (Process: KPROCESS, ProcessId: HANDLE, CreateInfo: PS_CREATE_NOTIFY_INFO | null) => void;
/** PCREATE_THREAD_NOTIFY_ROUTINE(ProcessId, ThreadId, Create). */
export type PCREATE_THREAD_NOTIFY_ROUTINE = (ProcessId: HANDLE, ThreadId: HANDLE, Create: boolean) => void;
/** PLOAD_IMAGE_NOTIFY_ROUTINE(FullImageName, ProcessId, ImageInfo): ProcessId 0 for a driver. */
export type PLOAD_IMAGE_NOTIFY_ROUTINE = (FullImageName: string, ProcessId: HANDLE, ImageInfo: IMAGE_INFO) => void;
