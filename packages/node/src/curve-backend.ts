import { createMclBackend, nobleBackend, type Bls12381Backend } from '@milagro/crypto';

/** The BLS12-381 backend named by `curveBackend`: mcl-wasm (loaded here; faster pairings) or noble (pure JS). */
export async function createCurveBackend(name: 'mcl' | 'noble'): Promise<Bls12381Backend> {
  return name === 'mcl' ? createMclBackend() : nobleBackend;
}
