/**
 * The storage headers a storage driver includes: scsi.h (CDBs, sense data, VPD pages),
 * srb.h / srbhelper.h (SCSI_REQUEST_BLOCK, STORAGE_REQUEST_BLOCK and their accessors),
 * ntddstor.h, ntdddisk.h and ntddscsi.h (the IOCTLs and their structures), and nvme.h.
 */
export * from "./scsi.js";
export * from "./srb.js";
export * from "./ntddstor.js";
export * from "./ntdddisk.js";
export * from "./ntddscsi.js";
export * from "./nvme.js";
