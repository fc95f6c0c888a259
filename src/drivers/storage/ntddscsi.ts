/**
 * SCSI pass-through and port I/O controls (what ntddscsi.h defines): IOCTL_SCSI_PASS_THROUGH
 * and IOCTL_SCSI_PASS_THROUGH_DIRECT with the byte layouts of SCSI_PASS_THROUGH and
 * SCSI_PASS_THROUGH_DIRECT (x64), IOCTL_SCSI_GET_ADDRESS with SCSI_ADDRESS, and
 * IOCTL_SCSI_MINIPORT with SRB_IO_CONTROL.
 */
import { CTL_CODE, FILE_ANY_ACCESS, FILE_READ_ACCESS, FILE_WRITE_ACCESS, METHOD_BUFFERED } from "../../io/ioctl.js";
import { FILE_DEVICE_CONTROLLER } from "../../io/objects.js";

/** IOCTL_SCSI_BASE: FILE_DEVICE_CONTROLLER. */
export const IOCTL_SCSI_BASE = FILE_DEVICE_CONTROLLER;

export const IOCTL_SCSI_PASS_THROUGH = CTL_CODE(IOCTL_SCSI_BASE, 0x0401, METHOD_BUFFERED, FILE_READ_ACCESS | FILE_WRITE_ACCESS);
export const IOCTL_SCSI_MINIPORT = CTL_CODE(IOCTL_SCSI_BASE, 0x0402, METHOD_BUFFERED, FILE_READ_ACCESS | FILE_WRITE_ACCESS);
export const IOCTL_SCSI_GET_INQUIRY_DATA = CTL_CODE(IOCTL_SCSI_BASE, 0x0403, METHOD_BUFFERED, FILE_ANY_ACCESS);
export const IOCTL_SCSI_GET_CAPABILITIES = CTL_CODE(IOCTL_SCSI_BASE, 0x0404, METHOD_BUFFERED, FILE_ANY_ACCESS);
export const IOCTL_SCSI_PASS_THROUGH_DIRECT = CTL_CODE(IOCTL_SCSI_BASE, 0x0405, METHOD_BUFFERED, FILE_READ_ACCESS | FILE_WRITE_ACCESS);
export const IOCTL_SCSI_GET_ADDRESS = CTL_CODE(IOCTL_SCSI_BASE, 0x0406, METHOD_BUFFERED, FILE_ANY_ACCESS);
export const IOCTL_SCSI_RESCAN_BUS = CTL_CODE(IOCTL_SCSI_BASE, 0x0407, METHOD_BUFFERED, FILE_ANY_ACCESS);

/** SCSI_PASS_THROUGH.DataIn. */
export const SCSI_IOCTL_DATA_OUT = 0;
export const SCSI_IOCTL_DATA_IN = 1;
export const SCSI_IOCTL_DATA_UNSPECIFIED = 2;

/**
 * SCSI_PASS_THROUGH (x64): Length (2), ScsiStatus, PathId, TargetId, Lun, CdbLength,
 * SenseInfoLength, DataIn (1 each), DataTransferLength (4 at 12), TimeOutValue (4),
 * DataBufferOffset (ULONG_PTR at 24), SenseInfoOffset (4 at 32), Cdb[16] at 36; 56 bytes.
 * SCSI_PASS_THROUGH_DIRECT is the same with DataBuffer (a pointer) at 24.
 */
export const SCSI_PASS_THROUGH = {
  Length: 0, ScsiStatus: 2, PathId: 3, TargetId: 4, Lun: 5, CdbLength: 6, SenseInfoLength: 7, DataIn: 8, DataTransferLength: 12,
  TimeOutValue: 16, DataBufferOffset: 24, DataBuffer: 24, SenseInfoOffset: 32, Cdb: 36, SIZE: 56,
} as const;

/** SCSI_ADDRESS: Length (4), PortNumber, PathId, TargetId, Lun (1 each). */
export const SCSI_ADDRESS = { Length: 0, PortNumber: 4, PathId: 5, TargetId: 6, Lun: 7, SIZE: 8 } as const;

/** SRB_IO_CONTROL: HeaderLength (4), Signature[8], Timeout (4), ControlCode (4), ReturnCode (4), Length (4). */
export const SRB_IO_CONTROL = { HeaderLength: 0, Signature: 4, Timeout: 12, ControlCode: 16, ReturnCode: 20, Length: 24, SIZE: 28 } as const;
