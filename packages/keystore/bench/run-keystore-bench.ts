// Benchmark suite `keystore`: sign ops/s inside the HSM (SoftHSM2) against the same operation in
// software, and the latency of unwrap-and-use for software keys wrapped by the HSM.
//
//   node --import ./packages/keystore/test/fixtures/resolve-ts.mjs packages/keystore/bench/run-keystore-bench.ts [out.json]
//
// Medians (p50) from tinybench. Needs softhsm2 and softhsm2-util; the token is created in a temp dir.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Bench } from 'tinybench';
import { FileKeyStore, MemoryKeyStore, type KeyStore, type KeyType } from '../src/index.js';
import { Pkcs11KeyStore } from '../src/pkcs11/index.js';

/** One measured row: median latency (ms) and median throughput (ops/s). */
export interface KeystoreBenchRow {
  readonly name: string;
  readonly medianMs: number;
  readonly medianOpsPerSecond: number;
}

const SOFTHSM_MODULE = process.env.SOFTHSM2_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
const message = new TextEncoder().encode('benchmark message: 32 bytes long');

function createToken(dir: string): { tokenLabel: string; pinFile: string } {
  const script = resolve(import.meta.dirname, '../../../tools/softhsm/setup-token.sh');
  const out = execFileSync('sh', [script, dir], { encoding: 'utf8' });
  const env = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
  process.env.SOFTHSM2_CONF = env.SOFTHSM2_CONF;
  return { tokenLabel: env.MILAGRO_PKCS11_TOKEN_LABEL!, pinFile: env.MILAGRO_PKCS11_PIN_FILE! };
}

/** Runs the suite and returns one row per task. */
export async function runKeystoreBench(options: { timeMs?: number } = {}): Promise<KeystoreBenchRow[]> {
  if (!existsSync(SOFTHSM_MODULE)) throw new Error(`SoftHSM2 module not found at ${SOFTHSM_MODULE}`);
  const dir = mkdtempSync(join(tmpdir(), 'milagro-keystore-bench-'));
  const token = createToken(join(dir, 'hsm'));
  const hsm = await Pkcs11KeyStore.open({ module: SOFTHSM_MODULE, tokenLabel: token.tokenLabel, pin: { file: token.pinFile } });
  const memory = new MemoryKeyStore();
  const file = await FileKeyStore.open({ path: join(dir, 'keys.mks'), passphrase: 'bench', scrypt: { N: 2 ** 14, r: 8, p: 1 } });
  const bench = new Bench({ time: options.timeMs ?? 1500, warmupTime: 200 });

  async function pair(type: KeyType, label: string, hsmKey: (store: KeyStore) => Promise<unknown>) {
    await hsmKey(hsm);
    const secret = new Uint8Array(32).fill(0x42);
    await memory.import(type, secret, { label });
    await file.import(type, secret, { label });
  }
  // HSM-resident keys are generated in the token; their software twins are imported elsewhere.
  await pair('ed25519', 'ed25519', (s) => s.generate('ed25519', { label: 'ed25519' }));
  await pair('secp256k1', 'secp256k1', (s) => s.generate('secp256k1', { label: 'secp256k1' }));
  await pair('p-256', 'p-256', (s) => s.generate('p-256', { label: 'p-256' }));
  // Software keys wrapped by the HSM KEK (unwrapped on every use).
  await pair('ml-dsa-65', 'ml-dsa-65', (s) => s.generate('ml-dsa-65', { label: 'ml-dsa-65' }));
  await hsm.generate('secret', { label: 'opaque' });
  await memory.generate('secret', { label: 'opaque' });
  const hsmInfo = await hsm.list();

  for (const type of ['ed25519', 'secp256k1', 'p-256', 'ml-dsa-65'] as const) {
    const residency = hsmInfo.find((k) => k.label === type)!.residency;
    bench.add(`sign ${type} · PKCS#11 (${residency === 'hsm' ? 'in HSM' : 'HSM-wrapped, unwrap+sign'})`, () =>
      hsm.sign({ label: type }, message).then(() => undefined),
    );
    bench.add(`sign ${type} · memory (software baseline)`, () => memory.sign({ label: type }, message).then(() => undefined));
    bench.add(`sign ${type} · encrypted file`, () => file.sign({ label: type }, message).then(() => undefined));
  }
  bench.add('unwrap opaque secret · PKCS#11 (C_UnwrapKey + read)', () => hsm.exportSecret({ label: 'opaque' }).then(() => undefined));
  bench.add('unseal opaque secret · memory (AES-256-GCM)', () => memory.exportSecret({ label: 'opaque' }).then(() => undefined));

  await bench.run();
  const rows = bench.tasks.map((task) => {
    const result = task.result as { latency?: { p50: number }; throughput?: { p50: number } } | undefined;
    return {
      name: task.name,
      medianMs: Number((result?.latency?.p50 ?? NaN).toFixed(4)),
      medianOpsPerSecond: Math.round(result?.throughput?.p50 ?? NaN),
    };
  });
  await Promise.all([hsm.close(), memory.close(), file.close()]);
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

if (import.meta.main) {
  const rows = await runKeystoreBench();
  console.table(rows);
  const out = process.argv[2];
  if (out) writeFileSync(out, JSON.stringify({ suite: 'keystore', rows }, null, 2));
}
