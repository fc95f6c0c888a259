/**
 * !object <path | address>: an object manager object, as WinDbg prints it — its address
 * and type, its header's address and counts, the directory it is named in and its name;
 * for a directory the entries it holds (by hash bucket), for a symbolic link its target.
 * A path names the object itself (a symbolic link at the end of the path is not followed).
 */
import type { Kernel } from "../ke/kernel.js";
import { NUMBER_HASH_BUCKETS, directoryBucket, type OBJECT_DIRECTORY } from "../ob/directory.js";
import type { OBJECT_HEADER } from "../ob/header.js";
import { OB } from "../ob/manager.js";
import { lookupObjectName } from "../ob/namespace.js";
import { ObpDirectoryObjectType, ObpSymbolicLinkObjectType } from "../ob/object-type.js";
import type { OBJECT_SYMBOLIC_LINK } from "../ob/symbolic-link-object.js";
import { statusName } from "../ke/ntstatus.js";
import { activeProcesses } from "../ps/process.js";
import { InspectError, expectAtMost, parseAddress } from "./args.js";
import { ptr, type InspectContext } from "./context.js";

const USAGE = "!object <\\Path\\Of\\Object | object address>";

/** Parses !object's argument. */
export function parseObject(words: string[]): { object: string } {
  expectAtMost(words, 1, USAGE);
  if (words.length === 0) throw new InspectError(`!object needs an object; usage: ${USAGE}`);
  return { object: words[0] };
}

/** Every object the object manager can reach without changing anything: the namespace, then the handle tables. */
function* reachable(k: Kernel): Generator<OBJECT_HEADER> {
  const ob = OB(k);
  const stack: OBJECT_DIRECTORY[] = [ob.root];
  yield ob.root.header;
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const h of d.objects()) {
      yield h;
      if (h.Type === ObpDirectoryObjectType) stack.push(h.Body as OBJECT_DIRECTORY);
    }
  }
  for (const [, e] of ob.kernelHandles.list()) yield e.Object;
  for (const p of activeProcesses(k)) for (const [, e] of ob.handleTableOf(p).list()) yield e.Object;
}

/** The object a word names: a path from the root, or the address of an object (its body or its header). */
export function findObject(ctx: InspectContext, word: string, command: string): OBJECT_HEADER {
  if (word.startsWith("\\")) {
    const found = lookupObjectName(ctx.k, word, { openLink: true });
    if (found.status !== 0 || found.remaining !== "") throw new InspectError(`${command}: ${word} is not in the object namespace (${statusName(found.status)})`);
    return found.object!;
  }
  const address = parseAddress(word, "the object");
  if (address === undefined) throw new InspectError(`${command}: "${word}" is neither a path (starting with \\) nor an address; usage: ${USAGE}`);
  for (const h of reachable(ctx.k)) if (h.bodyAddress === address || h.address === address) return h;
  throw new InspectError(`${command}: ${ptr(address)} is not the address of an object in the namespace or in a handle table`);
}

/** The lines that describe `h` (also !handle's object details), indented by `indent`. */
export function objectHeaderLines(ctx: InspectContext, h: OBJECT_HEADER, indent = "    "): string[] {
  const ob = OB(ctx.k);
  const out = [
    `Object: ${ptr(h.bodyAddress)}  Type: (${ptr(ob.typeAddress(h.Type))}) ${h.Type.Name}`,
    `${indent}ObjectHeader: ${ptr(h.address)} (new version)`,
    `${indent}HandleCount: ${h.HandleCount}  PointerCount: ${h.PointerCount}`,
  ];
  if (h.Directory || h === ob.root.header) out.push(`${indent}Directory Object: ${ptr(h.Directory ? h.Directory.header.bodyAddress : 0)}  Name: ${h.Name}`);
  return out;
}

/** The entries of a directory, bucket by bucket, as !object lists them. */
function directoryLines(ctx: InspectContext, d: OBJECT_DIRECTORY): string[] {
  const buckets: OBJECT_HEADER[][] = Array.from({ length: NUMBER_HASH_BUCKETS }, () => []);
  for (const h of d.objects()) buckets[directoryBucket(h.Name)].push(h);
  const out = ["", "    Hash Address          Type                      Name", "    ---- -------          ----                      ----"];
  buckets.forEach((list, bucket) => {
    list.forEach((h, i) => {
      const hash = i === 0 ? `     ${bucket.toString().padStart(2, "0")}  ` : " ".repeat(9);
      out.push(`${hash}${ptr(h.bodyAddress)} ${h.Type.Name.padEnd(25)} ${h.Name}`);
    });
  });
  return out;
}

/** Runs !object. */
export function object(ctx: InspectContext, args: { object: string }): string {
  const h = findObject(ctx, args.object, "!object");
  const out = objectHeaderLines(ctx, h);
  if (h.Type === ObpDirectoryObjectType) out.push(...directoryLines(ctx, h.Body as OBJECT_DIRECTORY));
  if (h.Type === ObpSymbolicLinkObjectType) out.push(`    Target String is '${(h.Body as OBJECT_SYMBOLIC_LINK).LinkTarget}'`);
  return out.join("\n");
}
