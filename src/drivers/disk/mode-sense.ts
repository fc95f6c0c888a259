/**
 * MODE SENSE (classpnp's ClassModeSense and ClassFindModePage) and the write cache setting
 * disk.sys reads from the caching mode page at start (DiskGetCacheInformation): WCE on
 * means flushes must reach the device with SYNCHRONIZE CACHE, and write-through writes
 * carry FUA.
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import { IoAllocateMdl, IoFreeMdl } from "../../io/mdl.js";
import { EVENT_TYPE, KEVENT, KeInitializeEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_INSUFFICIENT_RESOURCES, STATUS_IO_DEVICE_ERROR, STATUS_NOT_SUPPORTED, STATUS_SUCCESS, type NTSTATUS } from "../../ke/ntstatus.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../mm/pool.js";
import { MmBuildMdlForNonPagedPool } from "../../mm/mdl.js";
import { readBytes, RtlZeroMemory, type PVOID } from "../../mm/memory.js";
import { MODE_CACHING_RCD, MODE_CACHING_WCE, MODE_PAGE_CACHING, MODE_PARAMETER_HEADER } from "../storage/scsi.js";
import { CLASS_SPECIAL_FUA_NOT_SUPPORTED, DEV_POWER_PROTECTED, DEV_WRITE_CACHE, DISK_TAG_DISABLE_CACHE, MODE_DATA_SIZE } from "./constants.js";
import type { FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";
import { fdoExtensionOf } from "./queue.js";
import { DequeueFreeTransferPacket, newPseudoIrp, SetupModeSenseTransferPacket, SubmitTransferPacket } from "./xferpkt.js";

/** MODE_SENSE_CURRENT_VALUES: the page control of current values. */
export const MODE_SENSE_CURRENT_VALUES = 0;

/**
 * ClassModeSense: MODE SENSE (6) of `PageMode` into `ModeSenseBuffer` (`Length` bytes of
 * nonpaged memory, at most 255) on a transfer packet; resolves to the bytes transferred (0
 * on failure). PASSIVE_LEVEL.
 */
export async function ClassModeSense(Fdo: DEVICE_OBJECT, ModeSenseBuffer: PVOID, Length: number, PageMode: number): Promise<number> {
  const mdl = IoAllocateMdl(ModeSenseBuffer, Length, false, false, null);
  if (!mdl) return 0;
  MmBuildMdlForNonPagedPool(mdl);
  try {
    const pkt = DequeueFreeTransferPacket(Fdo, true);
    if (!pkt) return 0;
    const pseudoIrp = newPseudoIrp(mdl);
    const event = new KEVENT();
    KeInitializeEvent(event, EVENT_TYPE.SynchronizationEvent, false);
    SetupModeSenseTransferPacket(pkt, event, ModeSenseBuffer, Math.min(Length, 0xFF), PageMode, 0, pseudoIrp, MODE_SENSE_CURRENT_VALUES);
    void SubmitTransferPacket(pkt);
    await KeWaitForSingleObject(event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
    return NT_SUCCESS(pseudoIrp.IoStatus.Status) ? Number(pseudoIrp.IoStatus.Information) : 0;
  } finally {
    IoFreeMdl(mdl);
  }
}

/**
 * ClassFindModePage: the offset of page `PageMode` in mode parameter data of `length`
 * bytes (6-byte header form when `Use6Byte`), after the block descriptors; -1 when absent.
 */
export function ClassFindModePage(data: Uint8Array, length: number, PageMode: number, Use6Byte: boolean): number {
  const headerSize = Use6Byte ? MODE_PARAMETER_HEADER.SIZE : 8;
  if (length < headerSize) return -1;
  const blockDescriptorLength = Use6Byte ? data[MODE_PARAMETER_HEADER.BlockDescriptorLength] : (data[6] << 8) | data[7];
  let at = headerSize + blockDescriptorLength;
  while (at + 2 <= length) {
    if ((data[at] & 0x3F) === PageMode) return at;
    const pageLength = data[at + 1];
    if (pageLength === 0) return -1;
    at += 2 + pageLength;
  }
  return -1;
}

/** ADJUST_FUA_FLAG: FUA on write-through writes when the write cache is on, not power protected, and FUA works. */
export function ADJUST_FUA_FLAG(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): void {
  fdoExtension.CdbForceUnitAccess = (fdoExtension.DeviceFlags & DEV_WRITE_CACHE) !== 0 && (fdoExtension.DeviceFlags & DEV_POWER_PROTECTED) === 0
    && (fdoExtension.ScanForSpecialFlags & CLASS_SPECIAL_FUA_NOT_SUPPORTED) === 0;
}

/** What the caching mode page says (DISK_CACHE_INFORMATION's fields disk.sys uses). */
export interface DISK_CACHE_INFORMATION {
  ParametersSavable: boolean;
  ReadCacheEnabled: boolean;
  WriteCacheEnabled: boolean;
}

/**
 * DiskGetCacheInformation: MODE SENSE of the caching page (tried twice); the page's PS,
 * RCD and WCE bits. STATUS_IO_DEVICE_ERROR when no header comes back, STATUS_NOT_SUPPORTED
 * when the page is absent. PASSIVE_LEVEL.
 */
export async function DiskGetCacheInformation(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): Promise<{ status: NTSTATUS; CacheInfo: DISK_CACHE_INFORMATION | null }> {
  const modeData = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, MODE_DATA_SIZE, DISK_TAG_DISABLE_CACHE);
  if (modeData === 0) return { status: STATUS_INSUFFICIENT_RESOURCES, CacheInfo: null };
  try {
    RtlZeroMemory(modeData, MODE_DATA_SIZE);
    let length = await ClassModeSense(fdoExtension.DeviceObject, modeData, MODE_DATA_SIZE, MODE_PAGE_CACHING);
    // Retried in case of a check condition.
    if (length < MODE_PARAMETER_HEADER.SIZE) length = await ClassModeSense(fdoExtension.DeviceObject, modeData, MODE_DATA_SIZE, MODE_PAGE_CACHING);
    if (length < MODE_PARAMETER_HEADER.SIZE) return { status: STATUS_IO_DEVICE_ERROR, CacheInfo: null };
    const data = readBytes(modeData, MODE_DATA_SIZE);
    if (length > data[MODE_PARAMETER_HEADER.ModeDataLength] + 1) length = data[MODE_PARAMETER_HEADER.ModeDataLength] + 1;
    const page = ClassFindModePage(data, length, MODE_PAGE_CACHING, true);
    if (page < 0 || page + 3 > length) return { status: STATUS_NOT_SUPPORTED, CacheInfo: null };
    return {
      status: STATUS_SUCCESS,
      CacheInfo: {
        ParametersSavable: (data[page] & 0x80) !== 0,
        ReadCacheEnabled: (data[page + 2] & MODE_CACHING_RCD) === 0,
        WriteCacheEnabled: (data[page + 2] & MODE_CACHING_WCE) !== 0,
      },
    };
  } finally {
    ExFreePoolWithTag(modeData, DISK_TAG_DISABLE_CACHE);
  }
}

/** DiskStartFdo's cache part: DEV_WRITE_CACHE from the caching page, then the FUA setting. */
export async function DiskUpdateWriteCacheState(Fdo: DEVICE_OBJECT): Promise<void> {
  const fdoExtension = fdoExtensionOf(Fdo);
  fdoExtension.DeviceFlags &= ~DEV_WRITE_CACHE;
  ADJUST_FUA_FLAG(fdoExtension);
  const { status, CacheInfo } = await DiskGetCacheInformation(fdoExtension);
  if (NT_SUCCESS(status) && CacheInfo?.WriteCacheEnabled) fdoExtension.DeviceFlags |= DEV_WRITE_CACHE;
  fdoExtension.DeviceFlags &= ~DEV_POWER_PROTECTED;
  ADJUST_FUA_FLAG(fdoExtension);
}
