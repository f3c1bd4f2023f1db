/**
 * In-process D-TAs for realm tests: each member has a real SQLite file, a real encrypted-file key
 * store and a RealmService; messages travel through an in-memory transport that keeps
 * per-sender-per-recipient order (as @milagro/messaging does) and lets a test drop or tamper with
 * any message.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dagCbor from '@ipld/dag-cbor';
import { nobleBackend, utf8ToBytes } from '@milagro/crypto';
import { FileKeyStore } from '@milagro/keystore';
import type { SqlDatabase } from '@milagro/storage';
import { openTestDatabase } from '../../../../tools/jest/test-database.js';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import type { RealmDefinition } from '../../src/realm-directory.js';
import { RealmRepository } from '../../src/realm-repository.js';
import { RealmService, type RealmMessage, type RealmProtocolNotice, type RealmServiceOptions } from '../../src/realm-service.js';

/** A message in flight; return undefined to drop it, or a changed copy to tamper with it. */
export type Interceptor = (message: RealmMessage & { readonly to: string }) => RealmMessage | undefined;

export interface Member {
  readonly name: string;
  readonly id: string;
  readonly dir: string;
  keyStore: FileKeyStore;
  db: SqlDatabase;
  service: RealmService;
  readonly notices: RealmProtocolNotice[];
}

/** A fake identity CID (v1, dag-cbor, sha-256 of the name): these tests need no PKI. */
export async function fakeIdentity(name: string): Promise<string> {
  return CID.create(1, dagCbor.code, await sha256.digest(utf8ToBytes(name))).toString();
}

export class RealmNetwork {
  readonly members: Member[] = [];
  /** Every interceptor sees every message; the first to drop it wins. */
  readonly interceptors: Interceptor[] = [];
  /** Every message handed to the transport, before interception. */
  readonly sent: Array<RealmMessage & { readonly to: string }> = [];
  readonly #queues = new Map<string, Promise<void>>();
  readonly #byId = new Map<string, Member>();

  /** Creates `names.length` members; `options(name)` adds per-member service options. */
  static async create(names: readonly string[], options: (name: string, ids: Record<string, string>) => Partial<RealmServiceOptions> = () => ({})): Promise<RealmNetwork> {
    const network = new RealmNetwork();
    const ids: Record<string, string> = {};
    for (const name of names) ids[name] = await fakeIdentity(name);
    for (const name of names) {
      const dir = await mkdtemp(join(tmpdir(), `milagro-realm-${name}-`));
      const member = { name, id: ids[name]!, dir, notices: [] } as unknown as Member;
      network.members.push(member);
      network.#byId.set(member.id, member);
      await network.start(member, { trustedProposers: Object.values(ids), ...options(name, ids) });
    }
    return network;
  }

  member(name: string): Member {
    const found = this.members.find((m) => m.name === name);
    if (!found) throw new Error(`no member ${name}`);
    return found;
  }

  /** Opens (or re-opens, after `stop`) a member's database, key store and service. */
  async start(member: Member, options: Partial<RealmServiceOptions> = {}): Promise<void> {
    member.db = await openTestDatabase({ path: join(member.dir, 'state.db') });
    member.keyStore = await FileKeyStore.open({ path: join(member.dir, 'keys'), passphrase: 'test passphrase', scrypt: { N: 2 ** 10, r: 8, p: 1 } });
    member.service = await RealmService.open({
      self: member.id,
      backend: nobleBackend,
      keyStore: member.keyStore,
      repository: await RealmRepository.open(member.db),
      send: (peer, message) => this.#transmit(member.id, peer, message),
      trustedProposers: [],
      roundTimeoutMs: 60_000,
      onNotice: (notice) => member.notices.push(notice),
      ...options,
    });
  }

  /** Closes a member's service, key store and database (as a process stop would). */
  async stop(member: Member): Promise<void> {
    await member.service.close();
    await member.keyStore.close();
    await member.db.close();
  }

  async close(): Promise<void> {
    for (const member of this.members) await this.stop(member).catch(() => undefined);
    await Promise.all(this.members.map((m) => rm(m.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })));
  }

  definition(realmId: string, threshold: number, mfaService: string): RealmDefinition {
    return { realmId, members: this.members.map((m) => m.id), threshold, mfaService, permitHorizonDays: 7, grantMaxLifetimeMinutes: 10 };
  }

  /** A definition whose members are only the named ones, in that order. */
  definitionOf(realmId: string, names: readonly string[], threshold: number, mfaService: string): RealmDefinition {
    return { ...this.definition(realmId, threshold, mfaService), members: names.map((name) => this.member(name).id) };
  }

  /** Closes and reopens a member (same database and key store files), trusting every member as at creation. */
  async restart(member: Member, options: Partial<RealmServiceOptions> = {}): Promise<void> {
    await this.stop(member);
    await this.start(member, { trustedProposers: this.members.map((m) => m.id), ...options });
  }

  #transmit(from: string, to: string, message: { type: string; body: Uint8Array }): Promise<void> {
    const envelope = { from, to, type: message.type, body: message.body.slice() };
    this.sent.push(envelope);
    let delivered: RealmMessage | undefined = envelope;
    for (const intercept of this.interceptors) {
      delivered = intercept({ ...delivered, to });
      if (!delivered) return Promise.resolve();
    }
    const recipient = this.#byId.get(to);
    if (!recipient) return Promise.reject(new Error(`unknown recipient ${to}`));
    const key = `${from}>${to}`;
    const message_ = delivered;
    const next = (this.#queues.get(key) ?? Promise.resolve())
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => recipient.service.handleMessage(message_))
      .catch(() => undefined); // a stopped recipient loses the message, as a crashed process would
    this.#queues.set(key, next);
    return Promise.resolve();
  }
}
