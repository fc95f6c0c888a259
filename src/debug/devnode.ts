/**
 * !devnode Address [Flags] [Service]: a node of the device tree, or with flag 0x1 the
 * node and everything below it, indented by depth. Address 0 is the root
 * (IopRootDeviceNode). Flag 0x10 shows only nodes that are not started, 0x20 only nodes
 * with a problem; Service shows only nodes that service drives (with 0x1, and their
 * children). Each node: its PDO, InstancePath, ServiceName, State (and the previous
 * state when the node records one), and Problem with Problem Status.
 */
import { CM_PROB_NAMES, PNP_DEVNODE_STATE, type DEVICE_NODE } from "../pnp/devnode.js";
import { InspectError, expectAtMost, parseAddress, parseFlags } from "./args.js";
import { allNodes, nodeAddress, nodePointer, ptr, ptr0x, type InspectContext } from "./context.js";

const USAGE = "!devnode Address [Flags] [Service]  (Address 0 is the root; Flags 0x1 children, 0x10 not started only, 0x20 problems only)";
const SHOW_CHILDREN = 0x1;
const RESOURCE_FLAGS = 0x2 | 0x4 | 0x8;
const NOT_STARTED_ONLY = 0x10;
const PROBLEMS_ONLY = 0x20;
const KNOWN_FLAGS = SHOW_CHILDREN | RESOURCE_FLAGS | NOT_STARTED_ONLY | PROBLEMS_ONLY;

/** A parsed !devnode command. */
export interface DevnodeArgs {
  address: number;
  flags: number;
  service?: string;
}

/** Parses !devnode's arguments. */
export function parseDevnode(words: string[]): DevnodeArgs {
  expectAtMost(words, 3, USAGE);
  if (words.length === 0) throw new InspectError(`!devnode needs an address (0 for the root); usage: ${USAGE}`);
  const address = parseAddress(words[0], "the device node");
  if (address === undefined) throw new InspectError(`!devnode: "${words[0]}" is not an address; usage: ${USAGE}`);
  if (address === 1 || address === 2) throw new InspectError(`!devnode ${address} lists pending ${address === 1 ? "removals" : "ejects"}, which this machine does not queue; use !devnode 0 1`);
  const flags = words.length > 1 ? parseFlags(words[1], "!devnode Flags", 0xFF) : 0;
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new InspectError(`!devnode: unknown flag bits 0x${(flags & ~KNOWN_FLAGS).toString(16)}; usage: ${USAGE}`);
  if ((flags & RESOURCE_FLAGS) !== 0) {
    throw new InspectError("!devnode: the resource list flags (0x2, 0x4, 0x8) are not supported here; `wdmsim run` lists each device's memory ranges and interrupts in its device tree");
  }
  return { address, flags, service: words[2] };
}

function stateText(value: number): string {
  const name = PNP_DEVNODE_STATE[value] as string | undefined;
  return `${name ?? "DeviceNodeUnknown"} (0x${value.toString(16)})`;
}

const hex8 = (v: number) => (v >>> 0).toString(16).padStart(8, "0");

/** The Problem and Problem Status lines of a node (none when it has no problem). */
function problemLines(node: DEVICE_NODE): string[] {
  const lines: string[] = [];
  if (node.Problem !== 0) lines.push(`Problem = ${CM_PROB_NAMES[node.Problem] ?? `0x${node.Problem.toString(16)}`}`);
  if (node.ProblemStatus !== 0) lines.push(`Problem Status = 0x${hex8(node.ProblemStatus)}`);
  return lines;
}

function hasProblem(node: DEVICE_NODE): boolean {
  return node.Problem !== 0;
}

function isStarted(node: DEVICE_NODE): boolean {
  return PNP_DEVNODE_STATE[node.State] === "DeviceNodeStarted";
}

/** The lines of one node at `depth`; `links` adds the Parent / Sibling / Child line. */
function nodeLines(node: DEVICE_NODE, depth: number, links: boolean): string[] {
  const pad = "  ".repeat(depth);
  const lines = [`DevNode ${nodePointer(node)} for PDO ${ptr0x(node.PhysicalDeviceObject?.address)}`];
  if (links) {
    const siblings = node.Parent?.Child ?? [];
    const sibling = siblings[siblings.indexOf(node) + 1];
    lines.push(`  Parent ${nodePointer(node.Parent)}   Sibling ${nodePointer(sibling)}   Child ${nodePointer(node.Child[0])}`);
  }
  lines.push(`  InstancePath is "${node.InstancePath}"`);
  if (node.ServiceName) lines.push(`  ServiceName is "${node.ServiceName}"`);
  lines.push(`  State = ${stateText(node.State)}`);
  lines.push(`  Previous State = ${stateText(node.PreviousState)}`);
  for (const p of problemLines(node)) lines.push(`  ${p}`);
  return lines.map((l) => pad + l);
}

/** Runs !devnode. */
export function devnode(ctx: InspectContext, args: DevnodeArgs): string {
  const nodes = allNodes(ctx);
  if (nodes.length === 0) throw new InspectError("!devnode: the PnP manager has not built a device tree yet");
  const out: string[] = [];
  let start: DEVICE_NODE;
  if (args.address === 0) {
    start = ctx.pnp.root;
    out.push(`Dumping IopRootDeviceNode (= ${nodePointer(start)})`);
  } else {
    const found = nodes.find((n) => nodeAddress(n) === args.address);
    if (!found) {
      const hint = nodes.some((n) => nodeAddress(n) !== undefined) ? "" : " (device nodes have no address in this machine: start from the root with !devnode 0 1, or use !devstack on a PDO)";
      throw new InspectError(`!devnode: ${ptr(args.address)} is not the address of a device node${hint}`);
    }
    start = found;
  }
  const children = (args.flags & SHOW_CHILDREN) !== 0;
  const shown = (n: DEVICE_NODE) =>
    ((args.flags & NOT_STARTED_ONLY) === 0 || !isStarted(n)) && ((args.flags & PROBLEMS_ONLY) === 0 || hasProblem(n));

  if (args.service !== undefined) {
    // Only the nodes that service drives (and, with 0x1, everything below them).
    const service = args.service.toLowerCase();
    const walk = (n: DEVICE_NODE) => {
      if (n.ServiceName.toLowerCase() === service) {
        emit(n, 0);
        return;
      }
      for (const c of n.Child) walk(c);
    };
    const emit = (n: DEVICE_NODE, depth: number) => {
      if (shown(n)) out.push(...nodeLines(n, depth, !children));
      if (children) for (const c of n.Child) emit(c, depth + 1);
    };
    walk(start);
    return out.join("\n");
  }

  if (!children) {
    out.push(...nodeLines(start, 0, true));
    return out.join("\n");
  }
  const walk = (n: DEVICE_NODE, depth: number) => {
    if (shown(n)) out.push(...nodeLines(n, depth, false));
    for (const c of n.Child) walk(c, depth + 1);
  };
  walk(start, 0);
  return out.join("\n");
}
