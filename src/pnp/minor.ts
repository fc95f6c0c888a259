/** Plug and Play IRP minor function codes and the enumerations they carry. */
import { DEVICE_POWER_STATE, SYSTEM_POWER_STATE } from "../po/power.js";

export const IRP_MN_START_DEVICE = 0x00;
export const IRP_MN_QUERY_REMOVE_DEVICE = 0x01;
export const IRP_MN_REMOVE_DEVICE = 0x02;
export const IRP_MN_CANCEL_REMOVE_DEVICE = 0x03;
export const IRP_MN_STOP_DEVICE = 0x04;
export const IRP_MN_QUERY_STOP_DEVICE = 0x05;
export const IRP_MN_CANCEL_STOP_DEVICE = 0x06;
export const IRP_MN_QUERY_DEVICE_RELATIONS = 0x07;
export const IRP_MN_QUERY_INTERFACE = 0x08;
export const IRP_MN_QUERY_CAPABILITIES = 0x09;
export const IRP_MN_QUERY_RESOURCES = 0x0A;
export const IRP_MN_QUERY_RESOURCE_REQUIREMENTS = 0x0B;
export const IRP_MN_QUERY_DEVICE_TEXT = 0x0C;
export const IRP_MN_FILTER_RESOURCE_REQUIREMENTS = 0x0D;
export const IRP_MN_READ_CONFIG = 0x0F;
export const IRP_MN_WRITE_CONFIG = 0x10;
export const IRP_MN_EJECT = 0x11;
export const IRP_MN_SET_LOCK = 0x12;
export const IRP_MN_QUERY_ID = 0x13;
export const IRP_MN_QUERY_PNP_DEVICE_STATE = 0x14;
export const IRP_MN_QUERY_BUS_INFORMATION = 0x15;
export const IRP_MN_DEVICE_USAGE_NOTIFICATION = 0x16;
export const IRP_MN_SURPRISE_REMOVAL = 0x17;
export const IRP_MN_QUERY_LEGACY_BUS_INFORMATION = 0x18;

/** Minor names for traces and inspection. */
export const IRP_MN_PNP_NAMES: Record<number, string> = {
  0x00: "IRP_MN_START_DEVICE", 0x01: "IRP_MN_QUERY_REMOVE_DEVICE", 0x02: "IRP_MN_REMOVE_DEVICE",
  0x03: "IRP_MN_CANCEL_REMOVE_DEVICE", 0x04: "IRP_MN_STOP_DEVICE", 0x05: "IRP_MN_QUERY_STOP_DEVICE",
  0x06: "IRP_MN_CANCEL_STOP_DEVICE", 0x07: "IRP_MN_QUERY_DEVICE_RELATIONS", 0x08: "IRP_MN_QUERY_INTERFACE",
  0x09: "IRP_MN_QUERY_CAPABILITIES", 0x0A: "IRP_MN_QUERY_RESOURCES", 0x0B: "IRP_MN_QUERY_RESOURCE_REQUIREMENTS",
  0x0C: "IRP_MN_QUERY_DEVICE_TEXT", 0x0D: "IRP_MN_FILTER_RESOURCE_REQUIREMENTS", 0x0F: "IRP_MN_READ_CONFIG",
  0x10: "IRP_MN_WRITE_CONFIG", 0x11: "IRP_MN_EJECT", 0x12: "IRP_MN_SET_LOCK", 0x13: "IRP_MN_QUERY_ID",
  0x14: "IRP_MN_QUERY_PNP_DEVICE_STATE", 0x15: "IRP_MN_QUERY_BUS_INFORMATION",
  0x16: "IRP_MN_DEVICE_USAGE_NOTIFICATION", 0x17: "IRP_MN_SURPRISE_REMOVAL", 0x18: "IRP_MN_QUERY_LEGACY_BUS_INFORMATION",
};

/** BUS_QUERY_ID_TYPE. */
export enum BUS_QUERY_ID_TYPE {
  BusQueryDeviceID = 0,
  BusQueryHardwareIDs = 1,
  BusQueryCompatibleIDs = 2,
  BusQueryInstanceID = 3,
  BusQueryDeviceSerialNumber = 4,
  BusQueryContainerID = 5,
}

/** DEVICE_RELATION_TYPE. */
export enum DEVICE_RELATION_TYPE {
  BusRelations = 0,
  EjectionRelations = 1,
  PowerRelations = 2,
  RemovalRelations = 3,
  TargetDeviceRelation = 4,
  SingleBusRelations = 5,
  TransportRelations = 6,
}

/** DEVICE_RELATIONS: the answer to IRP_MN_QUERY_DEVICE_RELATIONS (in IoStatus.Information). */
export interface DEVICE_RELATIONS<T = unknown> {
  Count: number;
  Objects: T[];
}

/**
 * DEVICE_CAPABILITIES: what IRP_MN_QUERY_CAPABILITIES fills in: where the device is, its
 * PnP flags and its power capabilities (the WDK's one-bit fields as booleans).
 */
export class DEVICE_CAPABILITIES {
  Size = 64;
  Version = 1;
  /** The hardware supports D1 / D2. */
  DeviceD1 = false;
  DeviceD2 = false;
  LockSupported = false;
  EjectSupported = false;
  Removable = false;
  DockDevice = false;
  /** The instance ID is unique system-wide (else the PnP manager prefixes it with the parent's). */
  UniqueID = false;
  SilentInstall = false;
  RawDeviceOK = false;
  SurpriseRemovalOK = false;
  /** The device can signal a wake event while in D0 / D1 / D2 / D3. */
  WakeFromD0 = false;
  WakeFromD1 = false;
  WakeFromD2 = false;
  WakeFromD3 = false;
  HardwareDisabled = false;
  NonDynamic = false;
  WarmEjectSupported = false;
  NoDisplayInUI = false;
  WakeFromInterrupt = false;
  SecureDevice = false;
  ChildOfVgaEnabledBridge = false;
  DecodeIoOnBoot = false;
  /** Bus-relative address (PCI: device << 16 | function); 0xFFFFFFFF until the bus driver sets it. */
  Address = 0xFFFFFFFF;
  /** Number a user would see on the slot; 0xFFFFFFFF when unknown. */
  UINumber = 0xFFFFFFFF;
  /**
   * Indexed by SYSTEM_POWER_STATE: the highest-powered device state the device can be in
   * for each system state (PowerDeviceUnspecified where the system state is not supported).
   */
  readonly DeviceState: DEVICE_POWER_STATE[] = new Array<DEVICE_POWER_STATE>(SYSTEM_POWER_STATE.PowerSystemMaximum).fill(DEVICE_POWER_STATE.PowerDeviceUnspecified);
  /** The least-powered system state the device can wake the system from (PowerSystemUnspecified: it cannot). */
  SystemWake = SYSTEM_POWER_STATE.PowerSystemUnspecified;
  /** The least-powered device state it can signal wake from (PowerDeviceUnspecified: it cannot). */
  DeviceWake = DEVICE_POWER_STATE.PowerDeviceUnspecified;
  /** Worst-case time back to D0 from D1 / D2 / D3, in 100 us units (0 for a state it does not support). */
  D1Latency = 0;
  D2Latency = 0;
  D3Latency = 0;
}

/** GUID_BUS_TYPE_PCI. */
export const GUID_BUS_TYPE_PCI = "{c8ebdfb0-b510-11d0-80e5-00a0c92542e3}";

/** PNP_BUS_INFORMATION: the answer to IRP_MN_QUERY_BUS_INFORMATION (in IoStatus.Information). */
export interface PNP_BUS_INFORMATION {
  BusTypeGuid: string;
  /** INTERFACE_TYPE (PCIBus = 5). */
  LegacyBusType: number;
  BusNumber: number;
}

/** DEVICE_TEXT_TYPE (IRP_MN_QUERY_DEVICE_TEXT). */
export enum DEVICE_TEXT_TYPE {
  DeviceTextDescription = 0,
  DeviceTextLocationInformation = 1,
}

// PNP_DEVICE_STATE flags (IRP_MN_QUERY_PNP_DEVICE_STATE).
export const PNP_DEVICE_DISABLED = 0x00000001;
export const PNP_DEVICE_DONT_DISPLAY_IN_UI = 0x00000002;
export const PNP_DEVICE_FAILED = 0x00000004;
export const PNP_DEVICE_REMOVED = 0x00000008;
export const PNP_DEVICE_RESOURCE_REQUIREMENTS_CHANGED = 0x00000010;
export const PNP_DEVICE_NOT_DISABLEABLE = 0x00000020;
