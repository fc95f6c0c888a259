/**
 * Structured exception handling for drivers written in TypeScript: ExRaiseStatus raises
 * an NTSTATUS as an exception (a thrown NtStatusException), and tryExcept / tryExceptAsync
 * are C's `__try { ... } __except (filter) { ... }`, with GetExceptionCode.
 *
 * The idiom, line for line against C:
 *
 * ```c
 * __try {
 *     ProbeForRead(Buffer, Length, sizeof(ULONG));
 *     Value = *(PULONG)Buffer;
 * } __except (EXCEPTION_EXECUTE_HANDLER) {
 *     Status = GetExceptionCode();
 * }
 * ```
 * ```ts
 * tryExcept(() => {
 *   ProbeForRead(Buffer, Length, 4);
 *   Value = readU32(Buffer);
 * }, EXCEPTION_EXECUTE_HANDLER, () => {
 *   Status = GetExceptionCode();
 * });
 * ```
 *
 * The filter is EXCEPTION_EXECUTE_HANDLER, EXCEPTION_CONTINUE_SEARCH, or a function of the
 * exception code returning one of them (C's filter expression). Only raised statuses are
 * exceptions in this sense: what ExRaiseStatus, ProbeForRead/ProbeForWrite, a fault on a
 * user-mode address and the allocators that raise on failure throw. A bug check is never
 * caught, and neither is a JavaScript error (a TypeError is a bug in the driver). An
 * exception no handler takes ends in 0x1E KMODE_EXCEPTION_NOT_HANDLED with P1 the status,
 * when it leaves the driver routine, as on Windows.
 */
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "./bugcheck.js";
import { APC_LEVEL } from "./irql.js";
import { KE } from "./kernel.js";
import { NtStatusException, type NTSTATUS } from "./ntstatus.js";

/** An __except filter's verdict: run the handler (the exception is dismissed). */
export const EXCEPTION_EXECUTE_HANDLER = 1;
/** An __except filter's verdict: not this handler's; the exception goes on outward. */
export const EXCEPTION_CONTINUE_SEARCH = 0;

/** 0xC4 P1: DDI compliance rule IrqlExPassive (ExRaiseStatus needs IRQL <= APC_LEVEL). */
export const DDI_RULE_IRQL_EX_PASSIVE = 0x00020008;

/** An __except filter: a verdict, or a function of the exception code that returns one. */
export type ExceptionFilter = number | ((ExceptionCode: NTSTATUS) => number);

/** Codes of the exceptions whose filter or handler runs now, innermost last. */
const activeCodes: NTSTATUS[] = [];

/**
 * ExRaiseStatus: raises `Status` as an exception; it does not return. Callers must be at
 * IRQL <= APC_LEVEL (Driver Verifier: 0xC4, P1 0x00020008, rule IrqlExPassive).
 */
export function ExRaiseStatus(Status: NTSTATUS): never {
  const k = KE();
  if (k.verifier && k.cpu.irql > APC_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_EX_PASSIVE, k.cpu.irql, Status >>> 0, 0);
  throw new NtStatusException(Status >>> 0);
}

/**
 * GetExceptionCode: the code of the exception being filtered or handled. Valid in a
 * filter function and in a handler (in an async handler, until its first await; the
 * handler also receives the code as its argument).
 */
export function GetExceptionCode(): NTSTATUS {
  if (activeCodes.length === 0) throw new Error("GetExceptionCode is only valid in an __except filter or handler (tryExcept)");
  return activeCodes[activeCodes.length - 1];
}

/** Runs the filter for `code`; true when the handler should run. */
function filterAccepts(filter: ExceptionFilter, code: NTSTATUS): boolean {
  if (typeof filter === "number") return filter === EXCEPTION_EXECUTE_HANDLER;
  activeCodes.push(code);
  try {
    return filter(code) === EXCEPTION_EXECUTE_HANDLER;
  } finally {
    activeCodes.pop();
  }
}

/** Runs the handler with `code` as the current exception code. */
function runHandler<H>(handler: (ExceptionCode: NTSTATUS) => H, code: NTSTATUS): H {
  activeCodes.push(code);
  try {
    return handler(code);
  } finally {
    activeCodes.pop();
  }
}

/**
 * `__try { body } __except (filter) { handler }` for synchronous code: returns what
 * `body` returns, or, when it raised a status the filter accepts, what `handler` returns.
 * Anything else propagates. `body` must not be async (use tryExceptAsync).
 */
export function tryExcept<T, H>(body: () => T, filter: ExceptionFilter, handler: (ExceptionCode: NTSTATUS) => H): T | H {
  let result: T;
  try {
    result = body();
  } catch (e) {
    if (e instanceof NtStatusException && filterAccepts(filter, e.status)) return runHandler(handler, e.status);
    throw e;
  }
  if (result instanceof Promise) throw new TypeError("tryExcept: the __try body is async; use tryExceptAsync");
  return result;
}

/** `__try { await body } __except (filter) { handler }` for code that waits (PASSIVE_LEVEL). */
export async function tryExceptAsync<T, H>(body: () => T | Promise<T>, filter: ExceptionFilter, handler: (ExceptionCode: NTSTATUS) => H | Promise<H>): Promise<T | H> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof NtStatusException && filterAccepts(filter, e.status)) return runHandler(handler, e.status);
    throw e;
  }
}
