// Builds everything wdmsim runs from: the machine core (scripts/build-core.mjs) and the
// JavaScript compiled from src/ and bench/ into dist/ (tsconfig.build.json, incremental).
// Writes dist/.built last: bin/wdmsim.js compares the sources with it to refuse a stale build.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Runs a build step; a failing step has printed its errors, so only its exit status is passed on. */
function step(args) {
  try {
    execFileSync(process.execPath, args, { cwd: root, stdio: "inherit" });
  } catch (e) {
    process.exit(typeof e.status === "number" ? e.status : 1);
  }
}

step([join(root, "scripts/build-core.mjs")]);
step([createRequire(import.meta.url).resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"]);
writeFileSync(join(root, "dist/.built"), "");
