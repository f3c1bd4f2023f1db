/**
 * `milagro init` without `--yes` asks its questions (on a terminal, or on stdin with `--interactive`):
 * answers shape the config, a wrong answer is asked again, and taking every offer (here: stdin ends at
 * once) writes the same config as `--yes` with the same flags. Without a terminal and without
 * `--interactive` or `--yes` it refuses (exit 2); a bad `--ipfs` is named.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runMilagro } from './support/milagro-command.js';

jest.setTimeout(300_000);

const env = { MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of the interactive init test', OPERATOR_PASSPHRASE: 'another passphrase of the interactive test' };
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'milagro-ask-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));

it('answers shape the config; a wrong answer is asked again', async () => {
  const config = join(root, 'asked.yaml');
  const answers = [
    'dta', // roles
    'node', // data dir
    '', // http host: the offer
    'eighty', // http port: wrong, asked again
    '0',
    'file', // key store
    'OPERATOR_PASSPHRASE', // its passphrase's variable
    '', // IPFS: embedded
    '-', // peers: none
    'bafyreiproposerofrealms', // trusted proposers
    config, // where to write
  ];
  const result = await runMilagro(['init', '--interactive', '--scrypt-log-n', '10', '--json'], env, `${answers.join('\n')}\n`);
  expect({ code: result.code }).toEqual({ code: 0 });
  // With --json the questions go to stderr, the outcome to stdout.
  expect(result.stderr).toContain('Roles (dta, mfa');
  expect(result.stderr).toContain('expected a whole number, found "eighty"');
  expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, config, dataDir: join(root, 'node'), roles: ['dta'] });
  expect(parse(readFileSync(config, 'utf8'))).toMatchObject({
    roles: ['dta'],
    dataDir: 'node',
    http: { host: '127.0.0.1', port: 0 },
    ipfs: { peers: [] },
    keyStore: { kind: 'file', passphrase: { env: 'OPERATOR_PASSPHRASE' }, scryptLogN: 10 },
    dta: { trustedProposers: ['bafyreiproposerofrealms'] },
  });
});

it('taking every offer writes what --yes writes', async () => {
  const flags = ['--data-dir', 'same', '--http-port', '0', '--scrypt-log-n', '10', '--json'];
  const asked = join(root, 'offers', 'config.yaml');
  const yes = join(root, 'yes', 'config.yaml');
  const interactive = await runMilagro(['init', '--interactive', '--config', asked, ...flags], env, '');
  expect({ code: interactive.code }).toEqual({ code: 0 });
  const direct = await runMilagro(['init', '--yes', '--config', yes, ...flags], env);
  expect({ code: direct.code, stderr: direct.stderr }).toEqual({ code: 0, stderr: '' });
  expect(readFileSync(asked, 'utf8')).toBe(readFileSync(yes, 'utf8'));
});

it('without a terminal, --interactive or --yes it refuses; a bad --ipfs is named', async () => {
  const config = join(root, 'refused.yaml');
  const refused = await runMilagro(['init', '--config', config, '--json'], env);
  expect(refused.code).toBe(2);
  expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, error: { message: expect.stringContaining('--interactive') } });
  const badIpfs = await runMilagro(['init', '--yes', '--config', config, '--ipfs', 'kubo', '--json'], env);
  expect(badIpfs.code).toBe(2);
  expect(JSON.parse(badIpfs.stdout)).toMatchObject({ ok: false, error: { message: expect.stringContaining('--ipfs') } });
});
