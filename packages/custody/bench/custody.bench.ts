/**
 * Suite `custody`: FROST key generation and signing among operators in one process, each with its
 * own embedded Helia node (private network, TCP on loopback), messenger, SQLite file and key store,
 * so every message really goes through IPFS and @milagro/messaging (store, publish, fetch, verify,
 * acknowledge). Cases: the DKG of a new vault, 2-of-3 and 3-of-5 (from the principal's request to
 * every operator active); signing latency (median and p99) of a 32-byte message and of a one-input
 * PSBT with 2 of 3; and, as the baseline, the same FROST signing maths with no messaging at all.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustodyNode, createSpendRequest, signVaultDefinition, type VaultDefinition } from '@milagro/custody';
import { createEmbeddedNode, generateSwarmKey, type IpfsNode } from '@milagro/ipfs';
import { MemoryKeyStore } from '@milagro/keystore';
import { FileJournal, Messenger } from '@milagro/messaging';
import { createIdentity, IdentityResolver, identitySigner } from '@milagro/pki';
import { openSqliteDatabase, type SqlDatabase } from '@milagro/storage';
import { schnorr_FROST } from '@noble/curves/secp256k1.js';
import * as btc from '@scure/btc-signer';
import type { BenchSuite } from '../../../tools/bench/suite.js';

const OPERATORS = 5;

interface Operator {
  ipfs: IpfsNode;
  messenger: Messenger;
  db: SqlDatabase;
  node: CustodyNode;
  id: string;
}

let dir: string;
const operators: Operator[] = [];
let principal: { id: string; sign: (m: Uint8Array, c: Uint8Array) => Promise<Uint8Array> };
let vaults = 0;
let outputKey: Uint8Array;

async function createVault(count: number, threshold: number): Promise<string> {
  const vaultId = `bench-${++vaults}`;
  const definition: VaultDefinition = {
    vaultId,
    principal: principal.id,
    operators: operators.slice(0, count).map((o) => o.id),
    threshold,
    policy: { approvers: [], approvals: 0, maxAmountSats: 100_000_000, destinations: [], allowMessages: true },
  };
  await operators[0]!.node.custody.createVault(await signVaultDefinition(principal, definition));
  await Promise.all(operators.slice(0, count).map((o) => o.node.custody.waitForVault(vaultId, { timeoutMs: 120_000 })));
  return vaultId;
}

let signingVault: string;
const message = new Uint8Array(32).fill(7);
const sign = async (payload: Parameters<typeof createSpendRequest>[2]) => {
  const request = await createSpendRequest(principal, signingVault, payload);
  return operators[0]!.node.custody.sign(request);
};

function onePsbt(): Uint8Array {
  const script = btc.OutScript.encode({ type: 'tr', pubkey: outputKey });
  const tx = new btc.Transaction();
  tx.addInput({ txid: new Uint8Array(32).fill(1), index: 0, witnessUtxo: { script, amount: 100_000n } });
  tx.addOutput({ script, amount: 99_000n });
  return tx.toPSBT();
}

// The baseline: FROST 2-of-3 signing maths alone (commit, two shares, aggregate), no messaging.
const dealt = schnorr_FROST.trustedDealer({ min: 2, max: 3 });
const ids = Object.keys(dealt.secretShares).slice(0, 2);
function frostOnly(): Uint8Array {
  const nonces = ids.map((id) => schnorr_FROST.commit(dealt.secretShares[id]!));
  const list = nonces.map((n) => n.commitments);
  const shares = Object.fromEntries(ids.map((id, i) => [id, schnorr_FROST.signShare(dealt.secretShares[id]!, dealt.public, nonces[i]!.nonces, list, message)]));
  return schnorr_FROST.aggregate(dealt.public, list, message, shares);
}

export default {
  suite: 'custody',
  setup: async () => {
    dir = await mkdtemp(join(tmpdir(), 'custody-bench-'));
    const swarmKey = generateSwarmKey();
    const addrs: string[] = [];
    for (let i = 0; i < OPERATORS; i++) {
      const ipfs = await createEmbeddedNode({ dataDir: join(dir, `op-${i}`, 'ipfs'), swarmKey, listen: ['/ip4/127.0.0.1/tcp/0'], peers: [...addrs] });
      addrs.push((await ipfs.multiaddrs())[0]!);
      const keyStore = new MemoryKeyStore();
      const identity = await createIdentity({ keyStore, store: ipfs.store, labelPrefix: `op-${i}` });
      const resolver = new IdentityResolver({ store: ipfs.store });
      const messenger = await Messenger.start({ identity, keyStore, store: ipfs.store, pubsub: ipfs.pubsub, resolver, journal: new FileJournal({ path: join(dir, `op-${i}`, 'journal') }) });
      const db = await openSqliteDatabase({ path: join(dir, `op-${i}`, 'custody.sqlite') });
      const node = await CustodyNode.open({ identity, keyStore, store: ipfs.store, resolver, messenger, db });
      operators.push({ ipfs, messenger, db, node, id: identity.id.toString() });
      if (i === 0) {
        const owned = await createIdentity({ keyStore, store: ipfs.store, labelPrefix: 'principal' });
        principal = identitySigner(owned, keyStore);
      }
    }
    signingVault = await createVault(3, 2);
    outputKey = Buffer.from((await operators[0]!.node.custody.vault(signingVault)).key!.outputKey, 'hex');
  },
  teardown: async () => {
    for (const o of operators.reverse()) {
      await o.node.close();
      await o.messenger.close();
      await o.db.close();
      await o.ipfs.stop();
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  },
  cases: [
    { name: 'FROST 2-of-3 signing maths only, no messaging (commit, 2 shares, aggregate)', fn: frostOnly, iterations: 50, time: 2000 },
    { name: 'sign a 32-byte message, 2 of 3 operators over messaging on loopback', fn: () => sign({ kind: 'message', message }), baseline: 'FROST 2-of-3 signing maths only, no messaging (commit, 2 shares, aggregate)', iterations: 40, time: 10_000 },
    { name: 'sign and finalise a 1-input PSBT, 2 of 3 operators over messaging on loopback', fn: () => sign({ kind: 'psbt', psbt: onePsbt() }), iterations: 30, time: 10_000 },
    { name: 'DKG of a new vault, 2-of-3, over messaging on loopback', fn: () => createVault(3, 2), iterations: 10, time: 10_000 },
    { name: 'DKG of a new vault, 3-of-5, over messaging on loopback', fn: () => createVault(5, 3), iterations: 10, time: 10_000 },
  ],
} satisfies BenchSuite;
