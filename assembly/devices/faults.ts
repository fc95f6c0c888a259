// Fault injection: the optional ability of a device model to misbehave on request, for
// tests of a driver's error and recovery paths. Only the NVMe controller has it; the
// kinds are its own (NVME_INJECT_* in nvme.ts). These are the results every model shares.

/** Fault armed or raised. */
export const INJECT_OK: i32 = 0;
/** No such PCI function, or it was pulled out of the machine. */
export const INJECT_ERROR_FUNCTION: i32 = -1;
/** The function's model takes no injected faults. */
export const INJECT_ERROR_MODEL: i32 = -2;
/** Unknown fault kind for the model. */
export const INJECT_ERROR_KIND: i32 = -3;
/** A count or value the kind does not accept. */
export const INJECT_ERROR_ARGUMENT: i32 = -4;
/** The device is in no state to take the fault (an NVMe fatal error needs CC.EN = 1). */
export const INJECT_ERROR_STATE: i32 = -5;
