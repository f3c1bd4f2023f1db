/**
 * The server side of the `dta` bench suite, in its own process: the D-TA's HTTP routes
 * (`createDtaApi` on `@milagro/http`) over a real `IssuanceService` (mcl-wasm backend, SQLite file
 * with WAL and synchronous=FULL for the grant nonces) and a one-member realm whose share is random.
 * The identity documents of the MFA service come from the parent in BENCH_SERVER_CONFIG; the
 * realm and fiduciary routes are not exercised.
 * Prints `{"url": ...}` once listening; exits when stdin closes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dagCbor from '@ipld/dag-cbor';
import { base64urlToBytes, createMclBackend, randomScalar } from '@milagro/crypto';
import { createDtaApi, DtaError, IssuanceRepository, IssuanceService, type ActiveRealm, type RealmDirectory } from '@milagro/dta';
import { createHttpServer } from '@milagro/http';
import { createSuite } from '@milagro/mpin';
import { IdentityResolver } from '@milagro/pki';
import { openSqliteDatabase } from '@milagro/storage';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { pino } from 'pino';

const config = JSON.parse(process.env['BENCH_SERVER_CONFIG'] ?? '{}') as { self: string; mfa: string; blocks: Array<[string, string]> };
const blocks = new Map(config.blocks.map(([cid, bytes]) => [cid, base64urlToBytes(bytes)]));
const store = {
  async putDag(value: unknown) {
    const bytes = dagCbor.encode(value);
    const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes));
    blocks.set(cid.toString(), bytes);
    return cid;
  },
  async get(cid: CID) {
    const bytes = blocks.get(cid.toString());
    if (bytes === undefined) throw new Error('no such block');
    return bytes;
  },
};

const suite = createSuite({ suite: 'modern', backend: await createMclBackend() });
const share = suite.encodeScalar(randomScalar());
const realm: ActiveRealm = {
  realmId: 'bench',
  members: [config.self],
  threshold: 1,
  mfaService: config.mfa,
  permitHorizonDays: 7,
  grantMaxLifetimeMinutes: 120,
  epoch: 0,
  index: 1n,
  groupPublicKey: new Uint8Array(48),
};
const realms: RealmDirectory = { self: config.self, activeRealm: async () => realm, masterShare: async () => ({ epoch: 0, index: 1n, share }) };
const dir = mkdtempSync(join(tmpdir(), 'dta-bench-server-'));
const db = await openSqliteDatabase({ path: join(dir, 'dta.sqlite') });
const issuance = new IssuanceService({ realms, repository: await IssuanceRepository.open(db), resolver: new IdentityResolver({ store }), suite });
const unused = async (): Promise<never> => {
  throw new DtaError('NOT_FOUND', 'not part of this bench');
};
const api = createDtaApi(
  { self: config.self, issuance, realms: { createRealm: unused, realm: unused, listRealms: async () => [] }, fiduciary: { fulfilOrder: unused, redeemOrder: unused } },
  { adminToken: 'bench-operator-token-0123456789' },
);
const server = createHttpServer({ apis: [api], logger: pino({ level: 'silent' }), metrics: { defaultMetrics: false } });
const listening = await server.listen({ port: 0 });
process.stdout.write(`${JSON.stringify({ url: listening.url })}\n`);
process.stdin.resume();
process.stdin.on('close', () => {
  void listening.close().then(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
