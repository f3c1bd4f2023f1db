/**
 * A signing result that an operator cannot check because the PKI does not answer is held and checked
 * again later, not dropped (spec §12): three operators t = 2 in one process; gamma is cut off while
 * alpha and beta sign, then gets alpha's result while its PKI lookups fail. It says so (a notice:
 * held), records nothing, tries again while the PKI is still down, and records the signature once the
 * PKI answers — learnt from alpha, once.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { CUSTODY_MESSAGE_TYPES } from '../src/custody-protocol.js';
import type { CustodyMessage } from '../src/custody-service.js';
import { createSpendRequest, signVaultDefinition, type CustodySigner } from '../src/principal.js';
import { CustodyNetwork } from './support/custody-network.js';

jest.setTimeout(180_000);

const VAULT = 'held-result';
let network: CustodyNetwork;
let principal: CustodySigner;
let outputKey: Uint8Array;
let pkiDown = false;
let failedLookups = 0;

beforeAll(async () => {
  network = await CustodyNetwork.create(['alpha', 'beta', 'gamma']);
  principal = await network.party('principal');
  await network.operator('alpha').service.createVault(await signVaultDefinition(principal, network.definition(VAULT, principal.id, 2)));
  const vaults = await Promise.all(network.operators.map((o) => o.service.waitForVault(VAULT, { timeoutMs: 120_000 })));
  outputKey = Buffer.from(vaults[0]!.key!.outputKey, 'hex');
  // gamma again, with a PKI that can be taken down and a short first retry.
  const gamma = network.operator('gamma');
  await network.stop(gamma);
  await network.start(gamma, {
    resultRetryMs: 100,
    signingKey: async (identity) => {
      if (pkiDown) {
        failedLookups += 1;
        throw new Error('the PKI did not answer');
      }
      const key = network.keys.get(identity);
      if (!key) throw new Error('unknown identity');
      return key;
    },
  });
});

afterAll(async () => {
  await network.close();
});

async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

it('a result the PKI could not check is held, checked again, and recorded once the PKI answers', async () => {
  const [alpha, gamma] = [network.operator('alpha'), network.operator('gamma')];
  // gamma is cut off: every message to or from it is held back here.
  const held: Array<CustodyMessage & { to: string }> = [];
  const intercept = (m: CustodyMessage & { to: string }) => {
    if (m.to !== gamma.id && m.from !== gamma.id) return m;
    held.push(m);
    return undefined;
  };
  network.interceptors.push(intercept);
  const message = new Uint8Array(32).fill(0x31);
  const signed = await createSpendRequest(principal, VAULT, { kind: 'message', message });
  const result = await alpha.service.sign(signed);
  expect(result.signers).toEqual([1, 2]);
  let resultMessage: (CustodyMessage & { to: string }) | undefined;
  await until(() => (resultMessage = held.find((m) => m.type === CUSTODY_MESSAGE_TYPES.signResult && m.from === alpha.id)) !== undefined, "alpha's result to gamma");
  network.interceptors.splice(network.interceptors.indexOf(intercept), 1);

  // The result arrives while gamma's PKI does not answer: not a verdict, nothing recorded, held.
  pkiDown = true;
  await gamma.service.handleMessage(resultMessage!);
  const notices = gamma.notices.filter((n) => n.kind === 'message-ignored' && n.reason.includes('the sign result cannot be checked now'));
  expect(notices).toHaveLength(1);
  expect(notices[0]!.reason).toContain('(held: it is checked again later)');
  await expect(gamma.service.request(VAULT, result.requestId)).rejects.toThrow();
  // It is checked again (and again) while the PKI is still down.
  await until(() => failedLookups >= 3, 'gamma to check the held result again');
  await expect(gamma.service.request(VAULT, result.requestId)).rejects.toThrow();

  pkiDown = false;
  await until(async () => (await gamma.service.request(VAULT, result.requestId).catch(() => undefined))?.state === 'signed', 'gamma to record the held result');
  const stored = await gamma.service.request(VAULT, result.requestId);
  expect(stored.result!.learnedFrom).toBe(alpha.id);
  expect(schnorr.verify(stored.result!.signatures[0]!, message, outputKey)).toBe(true);
  await expect(gamma.service.sign(signed)).rejects.toMatchObject({ code: 'REQUEST_REPLAYED' });
});
