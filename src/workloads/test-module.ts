/**
 * A user's test as a workload (`wdmsim run --test FILE`, `wdmsim explore --test FILE`): a
 * module (TypeScript or JavaScript, ES module) whose default export is an async function
 * given the booted machine; it passes unless it throws or returns false. It may also
 * export `machine` (a machine file name or path, as --machine takes) and `boot` (BootOptions:
 * driver packages, root devices, package files) for the machine it needs.
 */
import { resolve } from "node:path";
import { importModule } from "../machine/module-loader.js";
import type { Machine } from "../machine/machine.js";
import type { BootOptions } from "../pnp/boot.js";
import type { Workload } from "./index.js";

/** What a test module exports. */
export interface TestModule {
  default: (machine: Machine) => Promise<boolean | void> | boolean | void;
  machine?: string;
  boot?: BootOptions;
}

/** A test module that cannot be used: the message names the file and what is wrong. */
export class TestModuleError extends Error {}

/** Imports the test module at `file` and makes it a workload. */
export async function testWorkload(file: string): Promise<Workload> {
  const path = resolve(file);
  let loaded: Partial<TestModule>;
  try {
    loaded = (await importModule(path)) as Partial<TestModule>;
  } catch (e) {
    throw new TestModuleError(`--test ${file}: the module cannot be imported: ${e instanceof Error ? e.message : String(e)}`);
  }
  const test = loaded.default;
  if (typeof test !== "function") throw new TestModuleError(`--test ${file}: the module has no default export to run (export default async function (machine) { ... })`);
  if (loaded.machine !== undefined && typeof loaded.machine !== "string") throw new TestModuleError(`--test ${file}: its "machine" export must be a machine file name or path`);
  return {
    name: file,
    summary: `the test in ${file}`,
    title: `Test ${file}`,
    machine: loaded.machine,
    check: () => null,
    boot: loaded.boot ?? {},
    async run(machine) {
      const ok = (await test(machine)) !== false;
      return { ok, result: { ok }, lines: [`  result                     ${ok ? "passed" : "FAILED (the test returned false)"}`] };
    },
  };
}
