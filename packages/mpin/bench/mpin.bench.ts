/**
 * Suite `mpin`: server verification (mcl-wasm and noble) against the bare mcl-wasm 2-pairing
 * product it contains, batch verification per login at batch 8 and 32 against single
 * verification, client pass 1 + pass 2, and one issuer share.
 */
import type { BenchSuite } from '../../../tools/bench/suite.js';
import { createMclBackend, nobleBackend, type Bls12381Backend } from '@milagro/crypto';
import {
  clientPass1,
  clientPass2,
  createChallenge,
  createServerKey,
  createSuite,
  extractToken,
  generateMasterShare,
  issueClientShare,
  issueServerShare,
  verifyLogin,
  verifyLoginBatch,
  type LoginProof,
  type ServerKey,
} from '@milagro/mpin';

const identity = new TextEncoder().encode('{"userID":"bench@example.org"}');
const factors = [{ pin: '1234' }];
let bare: () => boolean = () => false;
let mclKey: ServerKey;
let nobleKey: ServerKey;
let proofs: LoginProof[] = [];
let clientToken: Uint8Array = new Uint8Array(0);
let master: Uint8Array = new Uint8Array(0);
const noble = createSuite({ backend: nobleBackend });

/** One D-TA realm on `backend`: its server key, a client token and n login proofs. */
function makeProofs(n: number, backend: Bls12381Backend): { key: ServerKey; serverSecret: Uint8Array; proofs: LoginProof[]; token: Uint8Array } {
  const suite = createSuite({ backend });
  const m = generateMasterShare(suite);
  const serverSecret = issueServerShare(suite, m);
  const token = extractToken(suite, { identity, clientSecret: issueClientShare(suite, m, identity), factors });
  const list: LoginProof[] = [];
  for (let i = 0; i < n; i++) {
    const { message, state } = clientPass1(suite, { identity, token, factors });
    const { challenge, keep } = createChallenge(suite);
    list.push({ identity, ...message, v: clientPass2(state, challenge).v, y: keep.y });
  }
  return { key: createServerKey(suite, serverSecret), serverSecret, proofs: list, token };
}

export default {
  suite: 'mpin',
  async setup() {
    const mcl = await createMclBackend();
    const made = makeProofs(32, mcl as unknown as Bls12381Backend);
    mclKey = made.key;
    proofs = made.proofs;
    nobleKey = createServerKey(noble, made.serverSecret); // same modern encodings on both backends
    clientToken = makeProofs(0, nobleBackend).token;
    master = generateMasterShare(noble);
    // The bare product: the same two pairs verifyLogin checks, already decoded and prepared.
    const p = proofs[0] as LoginProof;
    const suite = mclKey.suite;
    const v = suite.decodeG1(p.v);
    const r = mcl.g1.add(mcl.g1.multiply(suite.hashIdentity(identity) as never, suite.decodeScalar(p.y)), suite.decodeG1(p.u) as never);
    const q = mcl.prepareG2(mcl.g2.base);
    const sq = mcl.prepareG2(mclKey.secretPoint as never);
    bare = () => mcl.pairingProductIsOne([[v as never, q], [r, sq]]);
  },
  cases: [
    { name: 'bare mcl-wasm 2-pairing product', fn: () => bare() },
    { name: 'verifyLogin (mcl-wasm)', fn: () => verifyLogin(mclKey, proofs[0] as LoginProof), baseline: 'bare mcl-wasm 2-pairing product' },
    { name: 'verifyLogin (noble)', fn: () => verifyLogin(nobleKey, proofs[0] as LoginProof), baseline: 'verifyLogin (mcl-wasm)' },
    { name: 'verifyLoginBatch 8, per login (mcl-wasm)', fn: () => verifyLoginBatch(mclKey, proofs.slice(0, 8)), perItem: 8, baseline: 'verifyLogin (mcl-wasm)' },
    { name: 'verifyLoginBatch 32, per login (mcl-wasm)', fn: () => verifyLoginBatch(mclKey, proofs), perItem: 32, baseline: 'verifyLogin (mcl-wasm)' },
    {
      name: 'client pass 1 + pass 2 (noble)',
      fn: () => {
        const { state } = clientPass1(noble, { identity, token: clientToken, factors });
        return clientPass2(state, createChallenge(noble).challenge);
      },
    },
    { name: 'issueClientShare (noble)', fn: () => issueClientShare(noble, master, identity) },
  ],
} satisfies BenchSuite;
