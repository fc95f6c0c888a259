/**
 * The registry's part in transactions (ZwCreateKeyTransacted / ZwOpenKeyTransacted and the
 * keys opened below a transacted key): the configuration manager takes part in each
 * transaction it does work for, with the isolation Windows gives transacted registry
 * operations:
 *
 * - A key created in a transaction exists only for that transaction's key objects until
 *   commit; others do not find it (STATUS_OBJECT_NAME_NOT_FOUND) and do not enumerate it.
 *   Rollback deletes it.
 * - A key deleted in a transaction is gone for that transaction at once and for everyone
 *   at commit; rollback keeps it.
 * - Values set or deleted through a transacted key object are seen through the
 *   transaction's key objects and applied at commit; rollback discards them.
 * - After the transaction ends, its key objects can do nothing more
 *   (STATUS_TRANSACTION_NOT_ACTIVE).
 *
 * Counts in KEY_FULL_INFORMATION / KEY_CACHED_INFORMATION are the committed key's.
 */
import type { Kernel } from "../ke/kernel.js";
import { STATUS_KEY_DELETED, STATUS_OBJECT_NAME_INVALID, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import type { KTRANSACTION, TransactionParticipant } from "../tm/transaction.js";
import { CM_KEY_VALUE, MAX_VALUE_NAME_CHARS, nameKey, type CM_KEY } from "./key.js";
import { CM, type Registry } from "./registry.js";

/** The changes one transaction made to the registry. */
class RegistryTransaction implements TransactionParticipant {
  /** Keys created, in creation order. */
  readonly created: CM_KEY[] = [];
  /** Keys deleted, in deletion order. */
  readonly deleted: CM_KEY[] = [];
  /** Values set (a value) or deleted (null), by key and upper-cased name. */
  readonly values = new Map<CM_KEY, Map<string, CM_KEY_VALUE | null>>();

  constructor(private readonly registry: Registry) {}

  commit(transaction: KTRANSACTION): void {
    for (const key of this.created) pendingCreate.delete(key);
    for (const [key, changes] of this.values) {
      if (key.deleted) continue;
      for (const [name, value] of changes) {
        if (value) this.registry.setValue(key, value.name, value.type, value.data);
        else if (key.values.has(name)) this.registry.deleteValue(key, name);
      }
    }
    for (const key of this.deleted) {
      pendingDelete.delete(key);
      this.registry.deleteKey(key);
    }
    states.delete(transaction);
  }

  rollback(transaction: KTRANSACTION): void {
    for (let i = this.created.length - 1; i >= 0; i--) {
      const key = this.created[i];
      pendingCreate.delete(key);
      this.registry.deleteKey(key);
    }
    for (const key of this.deleted) pendingDelete.delete(key);
    states.delete(transaction);
  }
}

/** Keys created by a transaction that has not committed. */
const pendingCreate = new WeakMap<CM_KEY, KTRANSACTION>();
/** Keys deleted by a transaction that has not committed. */
const pendingDelete = new WeakMap<CM_KEY, KTRANSACTION>();
/** The registry changes of each transaction. */
const states = new WeakMap<KTRANSACTION, RegistryTransaction>();

/** The registry's state in `transaction`, joining it on first use. */
function stateOf(k: Kernel, transaction: KTRANSACTION): RegistryTransaction {
  let s = states.get(transaction);
  if (!s) {
    s = new RegistryTransaction(CM(k));
    states.set(transaction, s);
    transaction.join(s);
  }
  return s;
}

/** Whether `key` (and every key above it) exists for an observer in `transaction` (null: outside any transaction). */
export function keyVisible(key: CM_KEY | null, transaction: object | null): boolean {
  for (let p = key; p; p = p.parent) {
    const creator = pendingCreate.get(p);
    if (creator && creator !== transaction) return false;
    const deleter = pendingDelete.get(p);
    if (deleter && deleter === transaction) return false;
  }
  return true;
}

/** Records that `transaction` created `key`. */
export function recordCreate(k: Kernel, transaction: KTRANSACTION, key: CM_KEY): void {
  stateOf(k, transaction).created.push(key);
  pendingCreate.set(key, transaction);
}

/** Deletes `key` in `transaction` (a key with visible subkeys cannot be deleted: the caller checks). */
export function transactedDeleteKey(k: Kernel, transaction: KTRANSACTION, key: CM_KEY): NTSTATUS {
  if (!keyVisible(key, transaction)) return STATUS_KEY_DELETED;
  if (pendingCreate.get(key) === transaction) {
    // A key the transaction made itself goes at once.
    const s = stateOf(k, transaction);
    s.created.splice(s.created.indexOf(key), 1);
    pendingCreate.delete(key);
    return CM(k).deleteKey(key);
  }
  stateOf(k, transaction).deleted.push(key);
  pendingDelete.set(key, transaction);
  return STATUS_SUCCESS;
}

/** The subkey `index` of `key` among those visible in `transaction`. */
export function visibleSubkeyAt(key: CM_KEY, index: number, transaction: object | null): CM_KEY | undefined {
  let n = 0;
  for (const sub of key.subkeys()) {
    if (!keyVisible(sub, transaction)) continue;
    if (n++ === index) return sub;
  }
  return undefined;
}

/** Sets a value of `key` in `transaction`. */
export function transactedSetValue(k: Kernel, transaction: KTRANSACTION, key: CM_KEY, name: string, type: number, data: Uint8Array): NTSTATUS {
  if (name.length > MAX_VALUE_NAME_CHARS) return STATUS_OBJECT_NAME_INVALID;
  const s = stateOf(k, transaction);
  let changes = s.values.get(key);
  if (!changes) s.values.set(key, (changes = new Map()));
  const existing = transactedValue(key, name, transaction);
  changes.set(nameKey(name), new CM_KEY_VALUE(existing?.name ?? name, type, data));
  return STATUS_SUCCESS;
}

/** Deletes a value of `key` in `transaction` (STATUS_OBJECT_NAME_NOT_FOUND when it has none by that name there). */
export function transactedDeleteValue(k: Kernel, transaction: KTRANSACTION, key: CM_KEY, name: string): NTSTATUS {
  if (!transactedValue(key, name, transaction)) return STATUS_OBJECT_NAME_NOT_FOUND;
  const s = stateOf(k, transaction);
  let changes = s.values.get(key);
  if (!changes) s.values.set(key, (changes = new Map()));
  changes.set(nameKey(name), null);
  return STATUS_SUCCESS;
}

/** The value `name` of `key` as `transaction` sees it (null: outside any transaction). */
export function transactedValue(key: CM_KEY, name: string, transaction: object | null): CM_KEY_VALUE | undefined {
  const change = transaction ? states.get(transaction as KTRANSACTION)?.values.get(key)?.get(nameKey(name)) : undefined;
  if (change !== undefined) return change ?? undefined;
  return key.value(name);
}

/** The values of `key` in enumeration order as `transaction` sees them. */
export function transactedValues(key: CM_KEY, transaction: object | null): CM_KEY_VALUE[] {
  const changes = transaction ? states.get(transaction as KTRANSACTION)?.values.get(key) : undefined;
  const out: CM_KEY_VALUE[] = [];
  for (const [name, v] of key.values) {
    const change = changes?.get(name);
    if (change === null) continue;
    out.push(change ?? v);
  }
  if (changes) for (const [name, v] of changes) if (v && !key.values.has(name)) out.push(v);
  return out;
}
