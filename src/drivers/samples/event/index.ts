/**
 * The WDM event sample (general/event), ported line for line: the event.sys driver (a
 * user's event signalled, or a pending IRP completed, from a timer's DPC), its public
 * header and the EventTest console program.
 */
export * from "./event.js";
export * from "./public.js";
export * from "./eventtest.js";
