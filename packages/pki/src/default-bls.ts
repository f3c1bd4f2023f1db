import { createBlsSignatures, nobleBackend, type BlsSignatures } from '@milagro/crypto';

/** BLS12-381 signatures over noble (pure JS, audited, runs in browsers). Servers may pass an mcl-backed one for speed. */
export const defaultBls: BlsSignatures = createBlsSignatures(nobleBackend);
