/**
 * A node's configuration: defaults for every optional section, unknown keys refused at every
 * level, a relative `dataDir` resolved against the config file, secrets read from the environment
 * or files, and errors that name the failing path or source but never contain a secret value.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';
import { isNodeError, loadConfig, nodeConfigShape, parseConfig, readSecret, secretSourceSchema, type NodeErrorCode } from '../src/index.js';

const SECRET = 'correct-horse-battery-staple';
const schema = z.object({ ...nodeConfigShape, role: z.object({ token: secretSourceSchema.default({ env: 'TEST_ROLE_TOKEN' }) }).strict().prefault({}) }).strict();
const label = 'test';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'milagro-node-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The error `run` throws, after checking its code and that nothing in it (message, cause chain) shows the secret. */
function refusal(run: () => unknown, code: NodeErrorCode): Error {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(isNodeError(thrown, code)).toBe(true);
  expect(inspect(thrown, { depth: 10 })).not.toContain(SECRET);
  return thrown as Error;
}

describe('parsing', () => {
  it('fills in every default and resolves a relative dataDir against baseDir', () => {
    const config = parseConfig(schema, { dataDir: 'data' }, { baseDir: '/srv/milagro', label });
    expect(config).toEqual({
      dataDir: '/srv/milagro/data',
      http: { host: '127.0.0.1', port: 8080, bodyLimit: 1024 * 1024 },
      ipfs: { peers: [] },
      keyStore: { kind: 'file', passphrase: { env: 'MILAGRO_KEYSTORE_PASSPHRASE' } },
      database: { kind: 'sqlite' },
      curveBackend: 'mcl',
      log: { level: 'info' },
      role: { token: { env: 'TEST_ROLE_TOKEN' } },
    });
    expect(parseConfig(schema, { dataDir: '/abs/data' }, { baseDir: '/srv', label }).dataDir).toBe('/abs/data');
    expect(parseConfig(schema, { dataDir: 'data' }, { label }).dataDir).toBe(join(process.cwd(), 'data'));
  });

  it('accepts a PKCS#11 key store with its PIN from a file', () => {
    const config = parseConfig(schema, { dataDir: '/d', keyStore: { kind: 'pkcs11', module: '/usr/lib/softhsm/libsofthsm2.so', pin: { file: '/run/pin' } } }, { label });
    expect(config.keyStore).toEqual({ kind: 'pkcs11', module: '/usr/lib/softhsm/libsofthsm2.so', pin: { file: '/run/pin' } });
  });

  it('accepts PostgreSQL as the database, its URL from the environment by default or from a file', () => {
    expect(parseConfig(schema, { dataDir: '/d', database: { kind: 'postgres' } }, { label }).database).toEqual({ kind: 'postgres', url: { env: 'MILAGRO_DATABASE_URL' } });
    const config = parseConfig(schema, { dataDir: '/d', database: { kind: 'postgres', url: { file: '/run/secrets/db-url' }, poolSize: 4 } }, { label });
    expect(config.database).toEqual({ kind: 'postgres', url: { file: '/run/secrets/db-url' }, poolSize: 4 });
    refusal(() => parseConfig(schema, { dataDir: '/d', database: { kind: 'postgres', url: `postgresql://u:${SECRET}@h/db` } }, { label }), 'INVALID_CONFIG');
  });

  it('refuses unknown keys at the top and inside sections, naming each path', () => {
    const error = refusal(
      () => parseConfig(schema, { dataDir: '/d', extra: 1, http: { port: 80, hots: 'x' }, keyStore: { kind: 'file', passwd: SECRET } }, { label }),
      'INVALID_CONFIG',
    );
    expect(error.message).toMatch(/^invalid test configuration:/);
    expect(error.message).toContain('(root): Unrecognized key: "extra"');
    expect(error.message).toContain('http: Unrecognized key: "hots"');
    expect(error.message).toContain('keyStore: Unrecognized key: "passwd"');
  });

  it('names every failing path without echoing the values given', () => {
    const error = refusal(
      () =>
        parseConfig(
          schema,
          { http: { port: 70_000 }, keyStore: { kind: 'file', passphrase: SECRET }, ipfs: { swarmKey: { value: SECRET } }, curveBackend: SECRET, role: { token: SECRET } },
          { label },
        ),
      'INVALID_CONFIG',
    );
    for (const path of ['dataDir', 'http.port', 'keyStore.passphrase', 'ipfs.swarmKey', 'curveBackend', 'role.token']) expect(error.message).toContain(`\n  ${path}: `);
  });
});

describe('loading', () => {
  const envVar = 'TEST_NODE_CONFIG';
  afterEach(() => {
    delete process.env[envVar];
  });

  it('reads --config before the environment variable and resolves dataDir against the file', async () => {
    await writeFile(join(dir, 'a.json'), JSON.stringify({ dataDir: 'a-data' }));
    await writeFile(join(dir, 'b.json'), JSON.stringify({ dataDir: '../b-data' }));
    process.env[envVar] = join(dir, 'b.json');
    expect(loadConfig(schema, { envVar, label, argv: ['--config', join(dir, 'a.json')] }).dataDir).toBe(join(dir, 'a-data'));
    expect(loadConfig(schema, { envVar, label, argv: [] }).dataDir).toBe(join(dir, '..', 'b-data'));
  });

  it('says how to give a configuration when there is none, and names a file it cannot read', () => {
    expect(refusal(() => loadConfig(schema, { envVar, label: 'D-TA', argv: [] }), 'INVALID_CONFIG').message).toBe(
      `no D-TA configuration: pass --config <file> or set ${envVar}`,
    );
    const missing = join(dir, 'missing.json');
    expect(refusal(() => loadConfig(schema, { envVar, label, argv: ['--config', missing] }), 'INVALID_CONFIG').message).toContain(missing);
  });

  it('refuses a file that is not JSON without quoting its text', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, `{ "dataDir": "d", "keyStore": { "passphrase": "${SECRET}" `);
    const error = refusal(() => loadConfig(schema, { envVar, label, argv: ['--config', path] }), 'INVALID_CONFIG');
    expect(error.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON`));
  });
});

describe('secrets', () => {
  afterEach(() => {
    delete process.env['TEST_SECRET'];
  });

  it('come from an environment variable or a file (one trailing newline dropped)', async () => {
    process.env['TEST_SECRET'] = SECRET;
    expect(readSecret({ env: 'TEST_SECRET' })).toBe(SECRET);
    const file = join(dir, 'secret');
    await writeFile(file, `${SECRET}\n`);
    expect(readSecret({ file })).toBe(SECRET);
    await writeFile(file, `${SECRET}\r\n`);
    expect(readSecret({ file })).toBe(SECRET);
  });

  it('that are missing or empty are refused, naming the variable or file', async () => {
    expect(refusal(() => readSecret({ env: 'TEST_SECRET' }), 'SECRET_UNAVAILABLE').message).toBe('environment variable TEST_SECRET is not set');
    process.env['TEST_SECRET'] = '';
    expect(refusal(() => readSecret({ env: 'TEST_SECRET' }), 'SECRET_UNAVAILABLE').message).toBe('environment variable TEST_SECRET is not set');
    const missing = join(dir, 'no-such-secret');
    expect(refusal(() => readSecret({ file: missing }), 'SECRET_UNAVAILABLE').message).toBe(`cannot read secret file ${missing}`);
    const empty = join(dir, 'empty-secret');
    await writeFile(empty, '\n');
    expect(refusal(() => readSecret({ file: empty }), 'SECRET_UNAVAILABLE').message).toBe(`secret file ${empty} is empty`);
  });
});
