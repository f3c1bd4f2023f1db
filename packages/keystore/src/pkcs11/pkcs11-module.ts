// One graphene Module per library path per process. C_Initialize / C_Finalize are process-wide in
// PKCS#11, so several stores on the same module share it and only the last one to close finalises.
import { Module } from 'graphene-pk11';
import { KeyStoreError } from '../errors.js';

interface Loaded {
  readonly module: Module;
  users: number;
}

const loaded = new Map<string, Loaded>();

/** Loads and initialises the PKCS#11 library at `path`, counting the caller as a user. */
export function acquireModule(path: string): Module {
  let entry = loaded.get(path);
  if (!entry) {
    let module: Module;
    try {
      module = Module.load(path);
    } catch (cause) {
      throw new KeyStoreError('TOKEN_UNAVAILABLE', `cannot load the PKCS#11 module ${path}`, { cause });
    }
    entry = { module, users: 0 };
    loaded.set(path, entry);
  }
  initializeModule(entry.module, path);
  entry.users += 1;
  return entry.module;
}

/**
 * (Re-)initialises a module. Graphene ignores CKR_CRYPTOKI_ALREADY_INITIALIZED, so this also
 * recovers a module someone else in the process finalised.
 */
export function initializeModule(module: Module, path: string): void {
  try {
    module.initialize();
  } catch (cause) {
    throw new KeyStoreError('TOKEN_UNAVAILABLE', `cannot initialise the PKCS#11 module ${path}`, { cause });
  }
}

/** Drops one user of `path`; the last one finalises the library. */
export function releaseModule(path: string): void {
  const entry = loaded.get(path);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  loaded.delete(path);
  try {
    entry.module.finalize();
  } catch {
    // Already finalised (e.g. by another component); nothing left to release.
  }
}
