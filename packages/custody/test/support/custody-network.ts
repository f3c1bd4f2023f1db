/**
 * In-process operators for custody tests: each has a real SQLite file, a real encrypted-file key
 * store and a CustodyService; messages travel through an in-memory transport that keeps
 * per-sender-per-recipient order (as @milagro/messaging does) and lets a test drop or tamper with
 * any message. Identities are fake CIDs with real composite keys (looked up from a map instead of
 * the PKI); the principal and approvers sign with in-memory composite keys.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dagCbor from '@ipld/dag-cbor';
import { generateCompositeKeyPair, utf8ToBytes } from '@milagro/crypto';
import { FileKeyStore, MemoryKeyStore, type KeyStore } from '@milagro/keystore';
import { compositeSigner, encodeEnvelope, sealEnvelope } from '@milagro/envelope';
import { createIdentity, identityRecipientKey, identitySigner, type OwnedIdentity } from '@milagro/pki';
import { envelopeRevealer } from '../../src/blame-evidence.js';
import { AuditChain, readAuditChain } from '../../src/audit-chain.js';
import { sealEscrowShare } from '../../src/escrow.js';
import { openSqliteDatabase, type SqlDatabase } from '@milagro/storage';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { CustodyRepository } from '../../src/custody-repository.js';
import { CustodyService, type CustodyMessage, type CustodyNotice, type CustodyServiceOptions } from '../../src/custody-service.js';
import type { CustodySigner } from '../../src/principal.js';
import type { SpendingPolicy, VaultDefinition } from '../../src/vault.js';

export type Interceptor = (message: CustodyMessage & { readonly to: string }) => CustodyMessage | undefined;

export interface Operator {
  readonly name: string;
  readonly id: string;
  readonly dir: string;
  keyStore: KeyStore;
  db: SqlDatabase;
  service: CustodyService;
  readonly notices: CustodyNotice[];
  stopped: boolean;
  /** With `audit: true`: the operator's PKI identity (its keys in `identityKeys`). */
  identity?: OwnedIdentity;
  identityKeys?: MemoryKeyStore;
}

/** Blocks in memory with the ContentStore calls the PKI and the audit chain use. */
export class MemoryBlockStore {
  readonly blocks = new Map<string, Uint8Array>();

  async putDag(value: unknown): Promise<CID> {
    const bytes = dagCbor.encode(value);
    const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes));
    this.blocks.set(cid.toString(), bytes);
    return cid;
  }

  async get(cid: CID | string): Promise<Uint8Array> {
    const bytes = this.blocks.get(cid.toString());
    if (bytes === undefined) throw new Error(`block ${cid.toString()} not found`);
    return bytes;
  }
}

export async function fakeIdentity(name: string): Promise<string> {
  return CID.create(1, dagCbor.code, await sha256.digest(utf8ToBytes(name))).toString();
}

export class CustodyNetwork {
  readonly operators: Operator[] = [];
  /** Run on each message as its sender sends it (with `sealed`, before it is sealed and signed). */
  readonly interceptors: Interceptor[] = [];
  /** With `sealed`: run on each message at its recipient, after it was sealed (the CID stays the sender's envelope's). */
  readonly receivers: Interceptor[] = [];
  /** Messages travel as real envelopes (signed by the sender, sealed to the recipient, stored) with their CID; operators reveal them as DKG evidence. Needs `withAudit` identities. */
  sealed = false;
  readonly sent: Array<CustodyMessage & { readonly to: string }> = [];
  readonly keys = new Map<string, Uint8Array>();
  /** X-Wing keys of parties that have a PKI identity (escrow shares are sealed to them). */
  readonly kemKeys = new Map<string, Uint8Array>();
  readonly #queues = new Map<string, Promise<void>>();
  readonly #byId = new Map<string, Operator>();

  readonly store = new MemoryBlockStore();
  /** Opens an operator's key store (default: an encrypted file in its directory). */
  keyStoreFor: (operator: Operator) => Promise<KeyStore> = (operator) =>
    FileKeyStore.open({ path: join(operator.dir, 'keys'), passphrase: 'test passphrase', scrypt: { N: 2 ** 10, r: 8, p: 1 } });

  /** `withAudit`: operators get real PKI identities (in a shared in-memory block store) and keep audit chains. */
  static async create(
    names: readonly string[],
    options: Omit<Partial<CustodyServiceOptions>, 'audit'> & { withAudit?: boolean; sealed?: boolean; keyStoreFor?: (operator: Operator) => Promise<KeyStore> } = {},
  ): Promise<CustodyNetwork> {
    const network = new CustodyNetwork();
    const { withAudit = false, sealed = false, keyStoreFor, ...serviceOptions } = options;
    network.sealed = sealed;
    if (keyStoreFor) network.keyStoreFor = keyStoreFor;
    for (const name of names) {
      let id: string;
      let identity: OwnedIdentity | undefined;
      const identityKeys = new MemoryKeyStore();
      if (withAudit) {
        identity = await createIdentity({ keyStore: identityKeys, store: network.store, labelPrefix: `identity/${name}` });
        id = identity.id.toString();
        network.keys.set(id, identity.document.keys.sign);
      } else {
        id = await fakeIdentity(name);
        network.keys.set(id, generateCompositeKeyPair().publicKey);
      }
      const dir = await mkdtemp(join(tmpdir(), `milagro-custody-${name}-`));
      const operator = { name, id, dir, notices: [], stopped: false, ...(identity ? { identity, identityKeys } : {}) } as unknown as Operator;
      network.operators.push(operator);
      network.#byId.set(id, operator);
      await network.start(operator, serviceOptions);
    }
    return network;
  }

  /** A principal or approver: a fake identity with a real composite key the operators can look up. */
  async party(name: string): Promise<CustodySigner> {
    const id = await fakeIdentity(name);
    const pair = generateCompositeKeyPair();
    this.keys.set(id, pair.publicKey);
    return compositeSigner(id, pair.secretKey);
  }

  /** A party with a real PKI identity (composite and X-Wing keys) in this network's block store. */
  async identityParty(name: string): Promise<{ signer: CustodySigner; identity: OwnedIdentity; keyStore: MemoryKeyStore }> {
    const keyStore = new MemoryKeyStore();
    const identity = await createIdentity({ keyStore, store: this.store, labelPrefix: `party/${name}` });
    this.keys.set(identity.id.toString(), identity.document.keys.sign);
    this.kemKeys.set(identity.id.toString(), identity.document.keys.kem);
    return { signer: identitySigner(identity, keyStore), identity, keyStore };
  }

  operator(name: string): Operator {
    const found = this.operators.find((o) => o.name === name);
    if (!found) throw new Error(`no operator ${name}`);
    return found;
  }

  async start(operator: Operator, options: Partial<CustodyServiceOptions> = {}): Promise<void> {
    operator.db = await openSqliteDatabase({ path: join(operator.dir, 'state.db') });
    operator.keyStore = await this.keyStoreFor(operator);
    operator.service = await CustodyService.open({
      self: operator.id,
      keyStore: operator.keyStore,
      repository: await CustodyRepository.open(operator.db),
      send: (peer, message) => this.#transmit(operator.id, peer, message),
      signingKey: async (identity) => {
        const key = this.keys.get(identity);
        if (!key) throw new Error('unknown identity');
        return key;
      },
      roundTimeoutMs: 30_000,
      onNotice: (notice) => operator.notices.push(notice),
      ...(operator.identity && operator.identityKeys
        ? {
            audit: new AuditChain({
              signer: identitySigner(operator.identity, operator.identityKeys),
              self: { id: operator.id, publicKey: operator.identity.document.keys.kem },
              store: this.store,
            }),
            sealShare: async (principal: string, share: Parameters<typeof sealEscrowShare>[0]['share']) => {
              const publicKey = this.kemKeys.get(principal);
              if (!publicKey) throw new Error('the principal has no X-Wing key');
              return sealEscrowShare({ operator: identitySigner(operator.identity!, operator.identityKeys!), principal: { id: principal, publicKey }, share });
            },
            ...(this.sealed
              ? {
                  revealEnvelope: envelopeRevealer({
                    get: (cid) => this.store.get(cid),
                    recipientKey: () => identityRecipientKey(operator.identity!, operator.identityKeys!),
                    signingKey: async (identity) => this.keys.get(identity) as Uint8Array,
                  }),
                }
              : {}),
          }
        : {}),
      ...options,
    });
    operator.stopped = false;
  }

  /** `operator`'s audit chain of `vaultId`, newest entry first, read and verified once its pending writes are in. */
  async auditEntries(operator: Operator, vaultId: string): ReturnType<typeof readAuditChain> {
    await operator.service.auditSettled();
    return readAuditChain({
      get: (cid) => this.store.get(cid),
      head: (await operator.service.vault(vaultId)).auditHead!,
      operator: { id: operator.id, publicKey: operator.identity!.document.keys.sign },
      recipient: await identityRecipientKey(operator.identity!, operator.identityKeys!),
    });
  }

  async stop(operator: Operator): Promise<void> {
    operator.stopped = true;
    await operator.service.close();
    await operator.keyStore.close();
    await operator.db.close();
  }

  async close(): Promise<void> {
    for (const operator of this.operators) if (!operator.stopped) await this.stop(operator).catch(() => undefined);
    await Promise.all(this.operators.map((o) => rm(o.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })));
  }

  definition(vaultId: string, principal: string, threshold: number, policy: Partial<SpendingPolicy> = {}, names?: readonly string[]): VaultDefinition {
    const operators = (names ?? this.operators.map((o) => o.name)).map((n) => this.operator(n).id);
    return { vaultId, principal, operators, threshold, policy: { approvers: [], approvals: 0, maxAmountSats: 100_000_000, destinations: [], allowMessages: true, ...policy } };
  }

  #transmit(from: string, to: string, message: { type: string; body: Uint8Array }): Promise<void> {
    const envelope = { from, to, type: message.type, body: message.body.slice() };
    this.sent.push(envelope);
    let delivered: CustodyMessage | undefined = envelope;
    for (const intercept of this.interceptors) {
      delivered = intercept({ ...delivered, to });
      if (!delivered) return Promise.resolve();
    }
    const recipient = this.#byId.get(to);
    if (!recipient) return Promise.reject(new Error(`unknown recipient ${to}`));
    const key = `${from}>${to}`;
    const sent = delivered;
    const next = (this.#queues.get(key) ?? Promise.resolve())
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => (this.sealed ? this.#seal(from, to, sent) : sent))
      .then((message_) => {
        let received: CustodyMessage | undefined = message_;
        for (const intercept of this.receivers) {
          received = intercept({ ...received, to });
          if (!received) return undefined;
        }
        return recipient.stopped ? undefined : recipient.service.handleMessage(received);
      })
      .catch(() => undefined); // a stopped recipient loses the message, as a crashed process would
    this.#queues.set(key, next);
    return Promise.resolve();
  }

  /** As messaging does: the body in an envelope signed by the sender, sealed to the recipient, stored; delivered with its CID. */
  async #seal(from: string, to: string, message: CustodyMessage): Promise<CustodyMessage> {
    const sender = this.#byId.get(from)!;
    const recipient = this.#byId.get(to)!;
    const bytes = encodeEnvelope(
      await sealEnvelope({ from: identitySigner(sender.identity!, sender.identityKeys!), to: [{ id: to, publicKey: recipient.identity!.document.keys.kem }], type: message.type, body: message.body }),
    );
    const cid = await this.store.putDag(dagCbor.decode(bytes));
    return { ...message, cid: cid.toString() };
  }
}
