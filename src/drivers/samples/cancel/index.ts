/**
 * The WDM cancel sample (general/cancel, the sys/ driver), ported line for line: the
 * cancel legacy driver (a cancel-safe queue served by a polling system thread), its
 * console program (reader threads using ReadFileEx and alertable waits) and the console
 * input the program reads.
 */
export * from "./cancel.js";
export * from "./testapp.js";
export * from "./console-input.js";
