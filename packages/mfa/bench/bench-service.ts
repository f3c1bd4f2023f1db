/**
 * The MFA service the `mfa` suite measures, built the same way in the HTTP server process
 * (login-server.ts) and in the bench process (the in-process rows): a real `MfaService` on the
 * mcl-wasm backend over a node:sqlite file (WAL, synchronous=FULL), operator approval as activation,
 * an in-memory key store for the token key, and identities registered through the service itself.
 * Registration is not measured, so the grants port is a stub; the login path is the production one.
 * Limits are raised so that neither the rate limiters nor the wrong-PIN counter refuse a bench login.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryKeyStore } from '@milagro/keystore';
import { MfaService, adminApproval, keyStoreTokenSigner, staticServerSecret, type MfaLimits } from '@milagro/mfa';
import type { MpinSuite } from '@milagro/mpin';
import { openPostgresDatabase, openSqliteDatabase, type SqlDatabase } from '@milagro/storage';
import type { Registry } from 'prom-client';

const UNLIMITED = { limit: 1_000_000_000, windowSeconds: 60 };
/** BENCH_MFA_BATCH: the service's `maxVerificationBatch` (default: the service's own, 32; 1 turns batching off). */
const MAX_VERIFICATION_BATCH = process.env['BENCH_MFA_BATCH'] === undefined ? undefined : Number(process.env['BENCH_MFA_BATCH']);

/** Every login reserves an attempt before its pairing check; concurrent logins of one identity must not hit the lock. */
export const BENCH_LIMITS: MfaLimits = { maxFailures: 1_000_000_000, sessionTtlSeconds: 3600, perIp: UNLIMITED, perIdentity: UNLIMITED };

export interface BenchService {
  readonly service: MfaService;
  readonly db: SqlDatabase;
  /** Closes the service and the database and removes the database's directory. */
  close(): Promise<void>;
}

/** Opens and starts the service on a fresh SQLite database under `parentDir` (a disk directory or /dev/shm), or on the empty PostgreSQL database at `databaseUrl`. */
export async function openBenchService(options: {
  suite: MpinSuite;
  serverSecret: Uint8Array;
  groupPublicKey: Uint8Array;
  parentDir: string;
  databaseUrl?: string;
  registry?: Registry;
}): Promise<BenchService> {
  const dir = mkdtempSync(join(options.parentDir, 'mfa-bench-'));
  const db = options.databaseUrl === undefined ? await openSqliteDatabase({ path: join(dir, 'mfa.db') }) : await openPostgresDatabase({ url: options.databaseUrl });
  const service = await MfaService.open({
    db,
    realm: { id: 'bench', threshold: 2 },
    suite: options.suite,
    serverSecret: staticServerSecret({ serverSecret: options.serverSecret, groupPublicKey: options.groupPublicKey }),
    grants: { lifetimeSeconds: 300, issue: async () => [] },
    activation: adminApproval(),
    tokenSigner: await keyStoreTokenSigner(new MemoryKeyStore()),
    issuer: 'https://login.bench.example',
    limits: BENCH_LIMITS,
    ...(MAX_VERIFICATION_BATCH === undefined ? {} : { maxVerificationBatch: MAX_VERIFICATION_BATCH }),
    ...(options.registry === undefined ? {} : { registry: options.registry }),
  });
  await service.start();
  return {
    service,
    db,
    async close() {
      await service.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Registers and activates `count` users (operator approval); returns their M-Pin identities. */
export async function registerUsers(service: MfaService, count: number): Promise<Array<{ userId: string; identity: Uint8Array }>> {
  const users: Array<{ userId: string; identity: Uint8Array }> = [];
  for (let i = 0; i < count; i++) {
    const userId = `user${i}@bench.example`;
    const ticket = await service.requestRegistration({ userId, deviceName: 'bench device', clientAddress: '127.0.0.1' });
    if (!(await service.approveRegistration(ticket.reference))) throw new Error(`approval of ${userId} failed`);
    const activation = await service.activate({ registration: ticket.registration });
    users.push({ userId, identity: activation.identity });
  }
  return users;
}
