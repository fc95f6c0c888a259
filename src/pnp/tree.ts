/** The device tree as plain data, for summaries and inspection. */
import type { Kernel } from "../ke/kernel.js";
import { CmResourceTypeMemory } from "../io/resources.js";
import { PNP_DEVNODE_STATE, type DEVICE_NODE } from "./devnode.js";
import { PNP } from "./manager.js";

/** One device node. */
export interface DeviceTreeNode {
  instancePath: string;
  /** Service of the function driver, or "" if none is bound. */
  driver: string;
  /** Drivers of the stack from top to bottom. */
  stack: string[];
  state: string;
  hardwareIds: string[];
  /** Memory ranges: physical start and length, bytes. */
  memory: { start: number; length: number }[];
  /** Message interrupts: vector, IRQL and target processor. */
  interrupts: { vector: number; irql: number; processor: number }[];
  children: DeviceTreeNode[];
}

function toData(node: DEVICE_NODE): DeviceTreeNode {
  const stack: string[] = [];
  for (let d: typeof node.PhysicalDeviceObject | null = node.PhysicalDeviceObject; d; d = d.AttachedDevice) stack.unshift(d.DriverObject.serviceName);
  const memory = (node.resources?.translated.List[0]?.PartialResourceList.PartialDescriptors ?? [])
    .filter((d) => d.Type === CmResourceTypeMemory && d.u.Memory)
    .map((d) => ({ start: d.u.Memory!.Start, length: d.u.Memory!.Length }));
  return {
    instancePath: node.InstancePath,
    driver: node.ServiceName,
    stack,
    state: PNP_DEVNODE_STATE[node.State] ?? String(node.State),
    hardwareIds: [...node.HardwareIds],
    memory,
    interrupts: (node.resources?.messages ?? []).map((m) => ({ vector: m.vector, irql: m.irql, processor: m.processor })),
    children: node.Child.map(toData),
  };
}

/** The whole device tree from the root. */
export function deviceTree(k: Kernel): DeviceTreeNode {
  return toData(PNP(k).root);
}

/** The tree as indented text, one device per line (as `!devnode 0 1` lists it). */
export function formatDeviceTree(root: DeviceTreeNode): string[] {
  const lines: string[] = [];
  const walk = (n: DeviceTreeNode, depth: number) => {
    const pad = "  ".repeat(depth);
    const driver = n.driver ? `  [${n.stack.join(" > ")}]` : n.stack.length ? `  [${n.stack.join(" > ")}]` : "";
    lines.push(`${pad}${n.instancePath}${driver}  ${n.state.replace("DeviceNode", "")}`);
    for (const m of n.memory) lines.push(`${pad}    memory 0x${m.start.toString(16).toUpperCase()} - 0x${(m.start + m.length - 1).toString(16).toUpperCase()}`);
    for (const i of n.interrupts) lines.push(`${pad}    MSI vector 0x${i.vector.toString(16)} (IRQL ${i.irql}) -> CPU ${i.processor}`);
    for (const c of n.children) walk(c, depth + 1);
  };
  walk(root, 0);
  return lines;
}
