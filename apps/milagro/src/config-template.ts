/**
 * The commented `config.yaml` that `milagro init` writes. Values are rendered with the YAML library
 * (quoting done right); comments say what each key is and where secrets come from.
 */
import { stringify } from 'yaml';

export interface ConfigChoices {
  readonly roles: readonly string[];
  readonly dataDir: string;
  readonly http: { readonly host: string; readonly port: number };
  readonly peers: readonly string[];
  readonly swarmKeyFile?: string;
  /** RPC URL of a Kubo daemon to use instead of the embedded IPFS node. */
  readonly kuboUrl?: string;
  readonly keyStore:
    | { readonly kind: 'file'; readonly passphraseEnv: string; readonly scryptLogN?: number }
    | { readonly kind: 'pkcs11'; readonly module: string; readonly tokenLabel?: string; readonly pinEnv: string };
  readonly curveBackend: 'mcl' | 'noble';
  readonly logLevel: string;
  readonly dta?: { readonly trustedProposers: readonly string[] };
  readonly custody?: Record<string, never>;
  readonly mfa?: { readonly issuer: string; readonly realmId: string; readonly threshold: number; readonly dtas: ReadonlyArray<{ id: string; url: string }>; readonly activation: string };
}

const inline = (value: unknown): string => stringify(value, { collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0 }).trimEnd();

/** The file's text; it parses to the configuration these choices describe. */
export function renderConfig(choices: ConfigChoices): string {
  const lines = [
    '# Milagro Server configuration, written by `milagro init`. Start the node with',
    '#   milagro start --config <this file>',
    '# Secrets never appear here: they come from environment variables ({ env: NAME }) or files ({ file: /path }).',
    '# A few scalar keys can be overridden by MILAGRO_<SECTION>_<KEY> variables (e.g. MILAGRO_HTTP_PORT=8443).',
    '',
    '# The roles this node runs, each configured by its section below.',
    `roles: ${inline(choices.roles)}`,
    '',
    '# Everything the node keeps: key store, IPFS blocks, messaging journal, SQLite database (relative to this file).',
    `dataDir: ${inline(choices.dataDir)}`,
    '',
    'http:',
    `  host: ${inline(choices.http.host)}  # 0.0.0.0 to accept connections from other hosts`,
    `  port: ${choices.http.port}`,
    '',
    ...(choices.kuboUrl === undefined
      ? ['# Embedded IPFS node: consortium peers to keep connected (multiaddrs ending in /p2p/<peer id>).', 'ipfs:']
      : [
          '# IPFS through a Kubo daemon (started with --enable-pubsub-experiment); keep its RPC API on loopback or a private network.',
          'ipfs:',
          `  kubo: { url: ${inline(choices.kuboUrl)} }`,
          '  # Consortium peers the daemon keeps connected (multiaddrs ending in /p2p/<peer id>).',
        ]),
    `  peers: ${inline(choices.peers)}`,
    // With Kubo the private-network key is the daemon's own (swarm.key in its repo).
    ...(choices.kuboUrl !== undefined
      ? []
      : choices.swarmKeyFile === undefined
        ? ['  # swarmKey: { file: /run/secrets/swarm.key }  # private-network key']
        : [`  swarmKey: { file: ${inline(choices.swarmKeyFile)} }  # private-network key`]),
    '',
    '# Where the node\'s private keys live.',
    'keyStore:',
    ...(choices.keyStore.kind === 'file'
      ? [
          '  kind: file  # encrypted file under dataDir/keys',
          `  passphrase: { env: ${inline(choices.keyStore.passphraseEnv)} }`,
          ...(choices.keyStore.scryptLogN === undefined ? [] : [`  scryptLogN: ${choices.keyStore.scryptLogN}  # lowered scrypt cost: tests only`]),
        ]
      : [
          '  kind: pkcs11  # an HSM through its PKCS#11 module',
          `  module: ${inline(choices.keyStore.module)}`,
          ...(choices.keyStore.tokenLabel === undefined ? [] : [`  tokenLabel: ${inline(choices.keyStore.tokenLabel)}`]),
          `  pin: { env: ${inline(choices.keyStore.pinEnv)} }`,
        ]),
    '',
    '# BLS12-381 backend: mcl (mcl-wasm, fast pairings) or noble (pure JS).',
    `curveBackend: ${choices.curveBackend}`,
    '',
    `log: { level: ${choices.logLevel} }`,
  ];
  if (choices.dta !== undefined) {
    lines.push(
      '',
      '# The D-TA role: holds shares of realms\' master secrets and issues M-Pin shares against grants.',
      'dta:',
      '  # D-TA identities allowed to propose realms to this one.',
      `  trustedProposers: ${inline(choices.dta.trustedProposers)}`,
      '  adminToken: { env: MILAGRO_DTA_ADMIN_TOKEN }  # operator bearer token (16 characters or more)',
      '  plugins: {}  # e.g. { safeguard-secret: {}, bitcoin-address: { network: mainnet } }',
    );
  }
  if (choices.mfa !== undefined) {
    lines.push(
      '',
      '# The ZKP MFA role: M-Pin logins for one realm whose D-TAs send it server-secret shares.',
      'mfa:',
      `  issuer: ${inline(choices.mfa.issuer)}  # iss of access tokens`,
      '  realm:',
      `    id: ${inline(choices.mfa.realmId)}`,
      `    threshold: ${choices.mfa.threshold}  # shares needed`,
      '    dtas:  # the realm\'s D-TAs: identity (from their GET /v1/node) and public URL',
      ...choices.mfa.dtas.map((dta) => `      - { id: ${inline(dta.id)}, url: ${inline(dta.url)} }`),
      `  activation: { kind: ${choices.mfa.activation}${choices.mfa.activation === 'development-outbox' ? ', from: milagro@localhost' : ''} }`,
      '  adminToken: { env: MILAGRO_MFA_ADMIN_TOKEN }  # bearer token of the admin routes (16 characters or more)',
    );
  }
  if (choices.custody !== undefined) {
    lines.push(
      '',
      '# The custody role: operators jointly generate and use signing keys (FROST over secp256k1, Taproot);',
      '# no operator token: a vault\'s principal signs its requests, checked through the PKI.',
      'custody:',
      '  protocolRoundTimeoutMs: 60000  # per-round deadline of the DKG, signing and refresh',
    );
  }
  lines.push(
    '',
    '# Scheduled backups of this node (docs/specs/backup.md): an online snapshot of dataDir and this file,',
    '# sealed so that any `threshold` of the fiduciaries (identities from their GET /v1/node) can restore it',
    '# with the owner\'s recovery secret (shown by `milagro init`). PKCS#11 keys and a PostgreSQL database are',
    '# not in it (the HSM\'s own backup, pg_dump). The fiduciaries should be among ipfs.peers.',
    '# backup:',
    '#   fiduciaries: [bafy...f1, bafy...f2, bafy...f3]',
    '#   threshold: 2',
    '#   every: 24h          # or 30m, 7d, or a number of minutes',
    '#   # confirmations: 2  # fiduciaries that must have pinned a backup (default: threshold)',
    '#   # onStart: false    # also back up right after start',
    '#   # timeout: 10m      # how long a run waits for the confirmations',
    '#   # keep: 7           # backups kept at the fiduciaries; older ones are retired after a confirmed one',
    '',
    '# Serve as a backup fiduciary for other nodes: pin their deposits, release shares to their owners.',
    '# backupFiduciary:',
    '#   releaseLimit: { releases: 3, window: 24h }  # per backed-up node, counted across restarts',
    '#   # maxBytesPerNode: 10737418240  # refuse a node\'s deposits beyond this many bytes kept',
  );
  return `${lines.join('\n')}\n`;
}
