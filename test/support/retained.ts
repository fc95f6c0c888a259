/**
 * What an object graph holds, counted by walking it: every object reachable through own
 * properties, array elements, Map keys and values and Set members, breadth first from a
 * root. Each container (array, Map, Set, typed array) counts under the first path that
 * reached it (indices past the fourth written "*", so like containers share a path) with
 * its length in elements (typed arrays: bytes), so two walks of graphs
 * built the same way can be compared path by path: a container whose length follows the
 * amount of work done grows per event. What closures capture and what lives in WebAssembly
 * memory is not seen (the core's memory is one buffer of fixed size).
 */

/** A walk's result: objects reached, elements in containers, and each container's length by path. */
export interface Retained {
  objects: number;
  /** Sum of container lengths (array elements, Map and Set entries, typed array bytes / 8). */
  elements: number;
  containers: Map<string, number>;
}

/** Walks everything reachable from `root` (at most `limit` objects). */
export function retained(root: object, limit = 2_000_000): Retained {
  const seen = new Set<object>();
  const queue: [object, string][] = [[root, "root"]];
  const containers = new Map<string, number>();
  const count = (path: string, n: number) => containers.set(path, (containers.get(path) ?? 0) + n);
  let elements = 0;
  const visit = (v: unknown, path: string) => {
    if ((typeof v === "object" && v !== null) || typeof v === "function") {
      if (!seen.has(v as object)) {
        seen.add(v as object);
        queue.push([v as object, path]);
      }
    }
  };
  for (let head = 0; head < queue.length && seen.size < limit; head++) {
    const [o, path] = queue[head];
    if (typeof o === "function") continue;
    if (ArrayBuffer.isView(o)) {
      count(path, o.byteLength);
      elements += o.byteLength / 8;
      continue;
    }
    if (o instanceof ArrayBuffer || o instanceof WebAssembly.Memory || o instanceof WebAssembly.Module || o instanceof WebAssembly.Instance || o instanceof Promise) continue;
    if (Array.isArray(o)) {
      count(path, o.length);
      elements += o.length;
      o.forEach((x, i) => visit(x, `${path}[${i < 4 ? i : "*"}]`));
    } else if (o instanceof Map) {
      count(path, o.size);
      elements += o.size;
      let i = 0;
      for (const [k, x] of o) {
        const at = `${path}{${i++ < 4 ? String(typeof k === "object" ? i : k).slice(0, 20) : "*"}}`;
        visit(k, `${at}.key`);
        visit(x, at);
      }
    } else if (o instanceof Set) {
      count(path, o.size);
      elements += o.size;
      for (const x of o) visit(x, `${path}{}`);
    }
    if (!(o instanceof Map) && !(o instanceof Set) && !Array.isArray(o)) {
      for (const key of Object.getOwnPropertyNames(o)) {
        const d = Object.getOwnPropertyDescriptor(o, key);
        if (d && "value" in d) visit(d.value, `${path}.${key}`);
      }
    }
  }
  return { objects: seen.size, elements, containers };
}

/** Containers of `b` longer than in `a` (or new in `b`), with both lengths: what grew from one walk to the other. */
export function grown(a: Retained, b: Retained): { path: string; before: number; after: number }[] {
  const out: { path: string; before: number; after: number }[] = [];
  for (const [path, n] of b.containers) {
    const before = a.containers.get(path) ?? 0;
    if (n > before) out.push({ path, before, after: n });
  }
  return out.sort((x, y) => y.after - y.before - (x.after - x.before));
}
