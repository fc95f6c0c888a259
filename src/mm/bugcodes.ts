/**
 * Bug check codes the memory manager raises beyond the kernel's common set, with their
 * names and parameter meanings from the WDK bug check reference; registered in the
 * kernel's table so reports name them.
 */
import { BUGCHECKS } from "../ke/bugcheck.js";

/** A kernel-mode page could not be brought in: no physical page is left. */
export const NO_PAGES_AVAILABLE = 0x4D;
/** The page frame database is inconsistent (e.g. a page unlocked more times than it was locked). */
export const PFN_LIST_CORRUPT = 0x4E;
/** No system PTEs are left for a mapping that had to succeed. */
export const NO_MORE_SYSTEM_PTES = 0x3F;

/** PFN_LIST_CORRUPT P1: a driver unlocked a page more times than it locked it. */
export const PFN_UNLOCKED_TOO_OFTEN = 0x07;

BUGCHECKS[NO_PAGES_AVAILABLE] ??= {
  name: "NO_PAGES_AVAILABLE",
  meaning: "No free pages are available to continue operations.",
  parameters: ["Number of dirty pages", "Number of physical pages in the machine", "Extended commit value, in pages", "Total commit value, in pages"],
};
BUGCHECKS[PFN_LIST_CORRUPT] ??= {
  name: "PFN_LIST_CORRUPT",
  meaning: "The memory manager's page frame number list is corrupted.",
  parameters: ["0x07: a driver unlocked a page more times than it locked it", "Page frame number", "Current share count", "0"],
};
BUGCHECKS[NO_MORE_SYSTEM_PTES] ??= {
  name: "NO_MORE_SYSTEM_PTES",
  meaning: "The system PTEs are exhausted or fragmented.",
  parameters: ["0: system expansion PTE type, 1: nonpaged pool expansion PTE type", "Size of the request", "Total free system PTEs", "Total system PTEs"],
};
