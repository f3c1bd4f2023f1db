/**
 * Child-process entry (tools/jest/peer-process.ts): a vault's principal and approvers on their own
 * node. One embedded Helia node (so the operators fetch their identity documents from it) and one
 * key store hold four identities: `principal`, `approver-1`, `approver-2` and `mallory`.
 *
 * Config (env MILAGRO_PEER_CONFIG): `{ dataDir, swarmKey }`.
 *
 * Ops (byte strings as base64url):
 * - `dial { addr }`
 * - `signVault { definition }` → `{ signature }` (as the principal)
 * - `spend { vaultId, kind: 'psbt' | 'message', payload, approvals: n, as? }` → `{ request, signature, approvals }`:
 *   a fresh request signed by `as` (default the principal), approved by the first n approvers
 * - `signRefresh { vaultId, epoch }` → `{ signature }`
 * - `auditChain { operator, head }` → `[{ kind, requestId, signatures }]`, newest first: an operator's audit
 *   chain of one of the principal's vaults (sealed to the principal), each entry verified; signatures as hex
 */
import { join } from 'node:path';
import { base64urlToBytes, bytesToBase64url, bytesToHex } from '@milagro/crypto';
import { approveSpend, createSpendRequest, readAuditChain, signRefresh, signVaultDefinition, type VaultDefinition } from '@milagro/custody';
import { createEmbeddedNode } from '@milagro/ipfs';
import { FileKeyStore } from '@milagro/keystore';
import { createIdentity, identityRecipientKey, identitySigner, IdentityResolver, type OwnedIdentity } from '@milagro/pki';
import { servePeer, type PeerCommand } from '../../../../tools/jest/peer-protocol.js';

const config = JSON.parse(process.env['MILAGRO_PEER_CONFIG'] ?? '{}') as { dataDir: string; swarmKey: string };

const node = await createEmbeddedNode({ dataDir: join(config.dataDir, 'ipfs'), swarmKey: config.swarmKey });
const keyStore = await FileKeyStore.open({ path: join(config.dataDir, 'keys'), passphrase: 'principal passphrase', scrypt: { N: 2 ** 10, r: 8, p: 1 } });
const parties = ['principal', 'approver-1', 'approver-2', 'mallory'] as const;
type Party = (typeof parties)[number];
const identities = {} as Record<Party, OwnedIdentity>;
for (const party of parties) identities[party] = await createIdentity({ keyStore, store: node.store, labelPrefix: party });
const signer = (party: Party) => identitySigner(identities[party], keyStore);

async function run(command: PeerCommand): Promise<unknown> {
  switch (command.op) {
    case 'dial':
      return node.dial(String(command['addr']), { timeoutMs: 15_000 });
    case 'signVault': {
      const request = await signVaultDefinition(signer('principal'), command['definition'] as VaultDefinition);
      return { signature: bytesToBase64url(request.signature) };
    }
    case 'spend': {
      const as = (command['as'] as Party | undefined) ?? 'principal';
      const kind = command['kind'] === 'psbt' ? 'psbt' : 'message';
      const payload = base64urlToBytes(String(command['payload']));
      const signed = await createSpendRequest(
        { id: identities.principal.id.toString(), sign: signer(as).sign },
        String(command['vaultId']),
        kind === 'psbt' ? { kind, psbt: payload } : { kind, message: payload },
      );
      const approvers = (['approver-1', 'approver-2'] as const).slice(0, Number(command['approvals'] ?? 0));
      const approvals = await Promise.all(approvers.map((a) => approveSpend(signer(a), signed.request)));
      return {
        request: bytesToBase64url(signed.request),
        signature: bytesToBase64url(signed.signature),
        approvals: approvals.map((a) => ({ approver: a.approver, signature: bytesToBase64url(a.signature) })),
      };
    }
    case 'signRefresh':
      return { signature: bytesToBase64url(await signRefresh(signer('principal'), String(command['vaultId']), Number(command['epoch']))) };
    case 'auditChain': {
      const operator = String(command['operator']);
      const entries = await readAuditChain({
        get: (cid) => node.store.get(cid, { timeoutMs: 30_000 }),
        head: String(command['head']),
        operator: { id: operator, publicKey: (await new IdentityResolver({ store: node.store }).resolve(operator, { timeoutMs: 30_000 })).keys.sign },
        recipient: await identityRecipientKey(identities.principal, keyStore),
      });
      return entries.map(({ entry }) => ({
        kind: entry.kind,
        requestId: entry['requestId'] ?? null,
        signatures: Array.isArray(entry['signatures']) ? (entry['signatures'] as Uint8Array[]).map(bytesToHex) : null,
      }));
    }
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

servePeer(
  { ids: Object.fromEntries(parties.map((p) => [p, identities[p].id.toString()])), addrs: await node.multiaddrs() },
  run,
  async () => {
    await keyStore.close();
    await node.stop();
  },
);
