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
  /**
   * NVMe controller (assembly/devices/nvme.ts). Delays in ns or device cycles as named;
   * a 0 for maxQueueEntries, ioQueuePairs, namespaceBlocks, parallelism, mdts or
   * namespaceCount means the core's default (1024, 16, 65536, 32, 5, 1). namespaceCount
   * namespaces (NSIDs 1..n) of namespaceBlocks blocks of blockSize bytes each.
   */
  nvme: {
    number: L.DEVICE_MODEL_NVME,
    params: {
      maxQueueEntries: L.NVME_PARAM_MAX_QUEUE_ENTRIES,
      ioQueuePairs: L.NVME_PARAM_IO_QUEUE_PAIRS,
      namespaceCount: L.NVME_PARAM_NAMESPACE_COUNT,
      namespaceBlocks: L.NVME_PARAM_NAMESPACE_BLOCKS,
      blockSize: L.NVME_PARAM_BLOCK_SIZE,
      readyDelayNs: L.NVME_PARAM_READY_DELAY_NS,
      shutdownDelayNs: L.NVME_PARAM_SHUTDOWN_DELAY_NS,
      fetchCycles: L.NVME_PARAM_FETCH_CYCLES,
      commandCycles: L.NVME_PARAM_COMMAND_CYCLES,
      adminLatencyNs: L.NVME_PARAM_ADMIN_LATENCY_NS,
      readLatencyNs: L.NVME_PARAM_READ_LATENCY_NS,
      writeLatencyNs: L.NVME_PARAM_WRITE_LATENCY_NS,
      readJitterNs: L.NVME_PARAM_READ_JITTER_NS,
      writeJitterNs: L.NVME_PARAM_WRITE_JITTER_NS,
      flushLatencyNs: L.NVME_PARAM_FLUSH_LATENCY_NS,
      parallelism: L.NVME_PARAM_PARALLELISM,
      mdts: L.NVME_PARAM_MDTS,
      doorbellStride: L.NVME_PARAM_DOORBELL_STRIDE,
    },
  },
};
