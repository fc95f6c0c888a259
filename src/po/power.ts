/**
 * Power management types and codes (wdm.h): system and device power states, the
 * POWER_STATE union, POWER_ACTION, and the IRP_MJ_POWER minor function codes.
 */

/** POWER_STATE_TYPE: what Parameters.Power.State holds. */
export enum POWER_STATE_TYPE {
  SystemPowerState = 0,
  DevicePowerState = 1,
}

/** SYSTEM_POWER_STATE: S0 (working) to S5 (shutdown). */
export enum SYSTEM_POWER_STATE {
  PowerSystemUnspecified = 0,
  /** S0. */
  PowerSystemWorking = 1,
  /** S1. */
  PowerSystemSleeping1 = 2,
  /** S2. */
  PowerSystemSleeping2 = 3,
  /** S3. */
  PowerSystemSleeping3 = 4,
  /** S4. */
  PowerSystemHibernate = 5,
  /** S5. */
  PowerSystemShutdown = 6,
  /** Number of system power states (entries of DEVICE_CAPABILITIES.DeviceState). */
  PowerSystemMaximum = 7,
}

/** DEVICE_POWER_STATE: D0 (working) to D3 (off). */
export enum DEVICE_POWER_STATE {
  PowerDeviceUnspecified = 0,
  PowerDeviceD0 = 1,
  PowerDeviceD1 = 2,
  PowerDeviceD2 = 3,
  PowerDeviceD3 = 4,
  PowerDeviceMaximum = 5,
}

/** POWER_ACTION: why the system changes state (Parameters.Power.ShutdownType). */
export enum POWER_ACTION {
  PowerActionNone = 0,
  PowerActionReserved = 1,
  /** Entering S1, S2 or S3. */
  PowerActionSleep = 2,
  /** Entering S4. */
  PowerActionHibernate = 3,
  /** Entering S5; the machine stays on until the power button is pressed. */
  PowerActionShutdown = 4,
  /** Entering S5, then restarting. */
  PowerActionShutdownReset = 5,
  /** Entering S5, then powering off. */
  PowerActionShutdownOff = 6,
  PowerActionWarmEject = 7,
  PowerActionDisplayOff = 8,
}

/** The enumerators under their bare names, as C code writes them. */
export const { SystemPowerState, DevicePowerState } = POWER_STATE_TYPE;
/** SYSTEM_POWER_STATE enumerators. */
export const {
  PowerSystemUnspecified, PowerSystemWorking, PowerSystemSleeping1, PowerSystemSleeping2, PowerSystemSleeping3,
  PowerSystemHibernate, PowerSystemShutdown, PowerSystemMaximum,
} = SYSTEM_POWER_STATE;
/** DEVICE_POWER_STATE enumerators. */
export const { PowerDeviceUnspecified, PowerDeviceD0, PowerDeviceD1, PowerDeviceD2, PowerDeviceD3, PowerDeviceMaximum } = DEVICE_POWER_STATE;
/** POWER_ACTION enumerators. */
export const {
  PowerActionNone, PowerActionReserved, PowerActionSleep, PowerActionHibernate, PowerActionShutdown,
  PowerActionShutdownReset, PowerActionShutdownOff, PowerActionWarmEject, PowerActionDisplayOff,
} = POWER_ACTION;

/**
 * POWER_STATE: the C union of SYSTEM_POWER_STATE and DEVICE_POWER_STATE. Both members
 * alias one 32-bit value, as in C; Parameters.Power.State of a stack location holds
 * that value as a number.
 */
export class POWER_STATE {
  /** The union's 32-bit value. */
  value: number;

  constructor(value = 0) {
    this.value = value;
  }

  /** The value read as a system power state. */
  get SystemState(): SYSTEM_POWER_STATE { return this.value; }
  set SystemState(v: SYSTEM_POWER_STATE) { this.value = v; }

  /** The value read as a device power state. */
  get DeviceState(): DEVICE_POWER_STATE { return this.value; }
  set DeviceState(v: DEVICE_POWER_STATE) { this.value = v; }
}

// Minor function codes of IRP_MJ_POWER.
/** Arms a device to wake the system or itself (Parameters.WaitWake.PowerState, union offset 0). */
export const IRP_MN_WAIT_WAKE = 0x00;
/** Asks the bus driver for the device's power sequence counts. */
export const IRP_MN_POWER_SEQUENCE = 0x01;
/** Sets a system or device power state. */
export const IRP_MN_SET_POWER = 0x02;
/** Asks whether a system or device power state can be entered. */
export const IRP_MN_QUERY_POWER = 0x03;

/** Power minor names for traces and inspection. */
export const IRP_MN_POWER_NAMES: Record<number, string> = {
  0x00: "IRP_MN_WAIT_WAKE", 0x01: "IRP_MN_POWER_SEQUENCE", 0x02: "IRP_MN_SET_POWER", 0x03: "IRP_MN_QUERY_POWER",
};

/** "S0".."S5" for a system power state, "D0".."D3" for a device power state ("unspecified" for 0). */
export function powerStateName(type: POWER_STATE_TYPE, state: number): string {
  if (type === POWER_STATE_TYPE.SystemPowerState) {
    return state >= PowerSystemWorking && state <= PowerSystemShutdown ? `S${state - 1}` : state === 0 ? "unspecified" : `S?(${state})`;
  }
  return state >= PowerDeviceD0 && state <= PowerDeviceD3 ? `D${state - 1}` : state === 0 ? "unspecified" : `D?(${state})`;
}
