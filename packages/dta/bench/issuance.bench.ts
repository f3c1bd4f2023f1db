/**
 * Suite `issuance` (brief §7: D-TA client-share issuance ≥ 200/s on 2 cores including grant
 * verification): `IssuanceService.issueClientShare` in process, on the mcl-wasm backend, with a
 * SQLite file (WAL, synchronous=FULL) recording each grant's nonce, one at a time and 32 at once
 * (per issuance: 1000 / median = issuances per second). Its parts alone: grant verification, and
 * the M-Pin share s_i·H(ID). The over-HTTP figure is the lead's `dta` suite. Grants are signed in
 * setup (the MFA service's cost, not the D-TA's); each one is used once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMclBackend, randomScalar, type Bls12381Backend } from '@milagro/crypto';
import { IssuanceRepository, IssuanceService, createGrant, verifyGrant } from '@milagro/dta';
import type { ActiveRealm, RealmDirectory } from '@milagro/dta';
import { MemoryKeyStore } from '@milagro/keystore';
import { createSuite, issueClientShare, type MpinSuite } from '@milagro/mpin';
import { IdentityResolver, createIdentity, identitySigner, MemoryDocumentStore } from '@milagro/pki';
import { openSqliteDatabase, type SqlDatabase } from '@milagro/storage';
import type { BenchSuite } from '../../../tools/bench/suite.js';

const CONCURRENT = 32;
const GRANTS = 4000;
const identity = new TextEncoder().encode('alice@example.org');

const store = new MemoryDocumentStore();

let dir: string;
let db: SqlDatabase;
let suite: MpinSuite;
let realm: ActiveRealm;
let service: IssuanceService;
let resolver: IdentityResolver;
let masterShare: Uint8Array;
let oneGrant: Uint8Array;
const grants: Uint8Array[] = [];

function nextGrant(): Uint8Array {
  const grant = grants.pop();
  if (grant === undefined) throw new Error(`bench used more than ${GRANTS} grants: raise GRANTS`);
  return grant;
}

const issue = () => service.issueClientShare({ realmId: realm.realmId, grant: nextGrant(), identity });

export default {
  suite: 'issuance',
  setup: async () => {
    const keyStore = new MemoryKeyStore();
    const mfa = await createIdentity({ keyStore, store, labelPrefix: 'mfa' });
    const dta = await createIdentity({ keyStore, store, labelPrefix: 'dta' });
    suite = createSuite({ suite: 'modern', backend: (await createMclBackend()) as unknown as Bls12381Backend });
    masterShare = suite.encodeScalar(randomScalar());
    realm = {
      realmId: 'bench',
      members: [dta.id.toString()],
      threshold: 1,
      mfaService: mfa.id.toString(),
      permitHorizonDays: 7,
      grantMaxLifetimeMinutes: 60,
      epoch: 0,
      index: 1n,
      groupPublicKey: new Uint8Array(48),
    };
    const realms: RealmDirectory = {
      self: dta.id.toString(),
      activeRealm: async () => realm,
      masterShare: async () => ({ epoch: 0, index: 1n, share: masterShare }),
    };
    dir = await mkdtemp(join(tmpdir(), 'dta-bench-'));
    db = await openSqliteDatabase({ path: join(dir, 'dta.db') });
    resolver = new IdentityResolver({ store });
    service = new IssuanceService({ realms, repository: await IssuanceRepository.open(db), resolver, suite });
    const signer = identitySigner(mfa, keyStore);
    const grant = () => createGrant({ signer, purpose: 'client-secret', realm: realm.realmId, audience: realms.self, identity, lifetimeSeconds: 3600 });
    oneGrant = await grant();
    for (let i = 0; i < GRANTS; i++) grants.push(await grant());
  },
  teardown: async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  },
  cases: [
    {
      name: 'grant verification (decode, resolve issuer, composite verify)',
      fn: () => verifyGrant(oneGrant, { realm, self: realm.members[0]!, resolver, now: Date.now() }),
    },
    {
      name: 'M-Pin client share s_i·H(ID) (mcl)',
      fn: () => issueClientShare(suite, masterShare, identity),
    },
    {
      name: 'issueClientShare incl. grant verification and nonce commit, one at a time',
      fn: issue,
    },
    {
      name: `issueClientShare incl. grant verification, ${CONCURRENT} concurrent (per issuance)`,
      perItem: CONCURRENT,
      fn: () => Promise.all(Array.from({ length: CONCURRENT }, issue)),
    },
  ],
} satisfies BenchSuite;
