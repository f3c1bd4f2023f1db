import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMclBackend, randomScalar, splitSecret, type Bls12381Backend } from '@milagro/crypto';
import { MemoryKeyStore } from '@milagro/keystore';
import { createSuite, type MpinSuite } from '@milagro/mpin';
import { IdentityResolver, MemoryDocumentStore, createIdentity, identitySigner, type OwnedIdentity } from '@milagro/pki';
import type { SqlDatabase } from '@milagro/storage';
import { openTestDatabase } from '../../../../tools/jest/test-database.js';
import { DtaError } from '../../src/errors.js';
import { createGrant, type GrantPurpose, type GrantSigner } from '../../src/grant.js';
import { IssuanceRepository } from '../../src/issuance-repository.js';
import { IssuanceService } from '../../src/issuance.js';
import type { ActiveRealm, MasterShare, RealmDefinition, RealmDirectory } from '../../src/realm-directory.js';

export { MemoryDocumentStore };

let mcl: Promise<Bls12381Backend> | undefined;
/** The modern M-Pin suite on the mcl-wasm backend, as the D-TA server runs it. */
export async function mclSuite(): Promise<MpinSuite> {
  mcl ??= createMclBackend() as unknown as Promise<Bls12381Backend>;
  return createSuite({ suite: 'modern', backend: await mcl });
}

export const REALM_ID = 'acme';
export const DAY_MS = 86_400_000;
export const today = (now = Date.now()): number => Math.floor(now / DAY_MS);
export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A realm directory over a fixed Shamir share (what the realm service gives issuance after a DKG). */
export class FixedRealmDirectory implements RealmDirectory {
  constructor(
    readonly self: string,
    readonly realm: ActiveRealm,
    readonly master: MasterShare,
  ) {}

  async activeRealm(realmId: string): Promise<ActiveRealm> {
    if (realmId !== this.realm.realmId) throw new DtaError('NOT_FOUND', `no realm ${realmId}`);
    return this.realm;
  }

  async masterShare(realmId: string): Promise<MasterShare> {
    await this.activeRealm(realmId);
    return this.master;
  }
}

export interface IssuanceWorld {
  readonly store: MemoryDocumentStore;
  readonly keyStore: MemoryKeyStore;
  readonly resolver: IdentityResolver;
  readonly suite: MpinSuite;
  readonly mfa: OwnedIdentity;
  readonly mfaSigner: GrantSigner;
  /** Another identity, known to the PKI but not the realm's MFA service. */
  readonly stranger: OwnedIdentity;
  readonly strangerSigner: GrantSigner;
  /** The three member D-TAs' identity ids (Shamir indices 1..3). */
  readonly dtaIds: readonly string[];
  readonly definition: RealmDefinition;
  /** D-TA i's directory. */
  readonly directories: readonly FixedRealmDirectory[];
  readonly dir: string;
  /** Opens (again) D-TA i's SQLite file. */
  openDatabase(i: number): Promise<SqlDatabase>;
  /** An issuance service for D-TA i over a fresh connection to its database (closed by `close`). */
  service(i: number, options?: { now?: () => number; send?: (peer: string, message: { type: string; body: Uint8Array }) => Promise<unknown> }): Promise<IssuanceService>;
  /** A grant of the MFA service (or `signer`) for D-TA `audience`. */
  grant(options: {
    audience?: number | string;
    identity: Uint8Array;
    purpose?: GrantPurpose;
    day?: number;
    realm?: string;
    lifetimeSeconds?: number;
    now?: () => number;
    signer?: GrantSigner;
  }): Promise<Uint8Array>;
  close(): Promise<void>;
}

/**
 * Everything issuance meets in production except the network: identities made with @milagro/pki
 * (keys in a real MemoryKeyStore), a resolver over a content-addressed store, a realm of three
 * D-TAs holding a real 2-of-3 Shamir sharing of a master secret, and a SQLite file per D-TA.
 */
export async function createIssuanceWorld(): Promise<IssuanceWorld> {
  const store = new MemoryDocumentStore();
  const keyStore = new MemoryKeyStore();
  const make = (labelPrefix: string): Promise<OwnedIdentity> => createIdentity({ keyStore, store, labelPrefix });
  const [mfa, stranger, ...dtas] = await Promise.all(['mfa', 'stranger', 'dta-1', 'dta-2', 'dta-3'].map(make));
  const suite = await mclSuite();
  const dtaIds = dtas.map((d) => d!.id.toString());
  const definition: RealmDefinition = {
    realmId: REALM_ID,
    members: dtaIds,
    threshold: 2,
    mfaService: mfa!.id.toString(),
    permitHorizonDays: 7,
    grantMaxLifetimeMinutes: 10,
  };
  const secret = randomScalar();
  const groupPublicKey = suite.backend.g1.encode(suite.backend.g1.multiply(suite.backend.g1.base, secret), { compressed: true });
  const shares = splitSecret(secret, { threshold: 2, shares: 3 });
  const directories = shares.map(
    (share, i) =>
      new FixedRealmDirectory(dtaIds[i]!, { ...definition, epoch: 0, index: share.index, groupPublicKey }, { epoch: 0, index: share.index, share: suite.encodeScalar(share.value) }),
  );
  const dir = await mkdtemp(join(tmpdir(), 'dta-issuance-'));
  const open: SqlDatabase[] = [];
  const openDatabase = async (i: number): Promise<SqlDatabase> => {
    const db = await openTestDatabase({ path: join(dir, `dta-${i}.db`) });
    open.push(db);
    return db;
  };
  const resolver = new IdentityResolver({ store });
  const mfaSigner = identitySigner(mfa!, keyStore);
  return {
    store,
    keyStore,
    resolver,
    suite,
    mfa: mfa!,
    mfaSigner,
    stranger: stranger!,
    strangerSigner: identitySigner(stranger!, keyStore),
    dtaIds,
    definition,
    directories,
    dir,
    openDatabase,
    async service(i, options = {}) {
      const repository = await IssuanceRepository.open(await openDatabase(i));
      return new IssuanceService({ realms: directories[i]!, repository, resolver, suite, ...options });
    },
    grant(options) {
      const audience = options.audience ?? 0;
      return createGrant({
        signer: options.signer ?? mfaSigner,
        purpose: options.purpose ?? 'client-secret',
        realm: options.realm ?? REALM_ID,
        audience: typeof audience === 'number' ? dtaIds[audience]! : audience,
        identity: options.identity,
        ...(options.day === undefined ? {} : { day: options.day }),
        ...(options.lifetimeSeconds === undefined ? {} : { lifetimeSeconds: options.lifetimeSeconds }),
        ...(options.now === undefined ? {} : { now: options.now }),
      });
    },
    async close() {
      await Promise.all(open.map((db) => db.close().catch(() => undefined)));
      await rm(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

/** Awaits `promise` and expects a DtaError with `code`. */
export async function expectDtaError(promise: Promise<unknown>, code: string): Promise<DtaError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DtaError);
  expect((error as DtaError).code).toBe(code);
  return error as DtaError;
}
