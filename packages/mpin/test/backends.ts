/**
 * The backends the tests run on: noble always, mcl-wasm when it loads (the tests say so when not).
 */
import { nobleBackend, type Bls12381Backend } from '@milagro/crypto';
import { createMclBackend } from '../../crypto/src/bls12-381/mcl';

/** mcl-wasm backend, or undefined when it cannot be loaded here. */
export async function loadMclBackend(): Promise<Bls12381Backend | undefined> {
  try {
    return (await createMclBackend()) as unknown as Bls12381Backend;
  } catch (err) {
    console.warn(`mcl-wasm backend unavailable, running on noble only: ${(err as Error).message}`);
    return undefined;
  }
}

export { nobleBackend };
