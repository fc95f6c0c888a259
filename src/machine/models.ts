/**
 * Device models the core implements: the model number the core knows each by, and the
 * names of its parameters with their index in DeviceConfig.param0...
 */
import * as L from "./generated/layout.js";

/** A device model's number in the core and its named parameters. */
export interface DeviceModel {
  /** DEVICE_MODEL_* in the core. */
  number: number;
  /** Parameter name to its index in the DeviceConfig parameter array. */
  params: Record<string, number>;
}

/** Every model by the name device files use. */
export const DEVICE_MODELS: Record<string, DeviceModel> = {
  bridge: { number: L.DEVICE_MODEL_BRIDGE, params: {} },
  edu: {
    number: L.DEVICE_MODEL_EDU,
    params: {
      factorialCyclesPerStep: L.EDU_PARAM_CYCLES_PER_STEP,
      dmaSetupCycles: L.EDU_PARAM_DMA_SETUP_CYCLES,
    },
  },
};
