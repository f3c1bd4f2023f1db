/**
 * Interactive `milagro init`: one question per choice, each offering what `--yes` would take (the
 * flag's value, or its default), so pressing Enter throughout gives the `--yes` result. Reads lines
 * from any stream (a terminal, or a pipe with `--interactive`); at the end of input the remaining
 * questions take their defaults. No secret is asked for: the config names where secrets come from.
 */
import { createInterface } from 'node:readline';
import { MILAGRO_ROLES } from './config.js';
import type { InitOptions } from './init.js';

export interface QuestionStreams {
  readonly input: NodeJS.ReadableStream;
  /** Where questions go (stderr when stdout carries `--json`). */
  readonly output: NodeJS.WritableStream;
}

/** An answer's check: undefined when it is fine, else what was expected. */
type Check = (answer: string) => string | undefined;

const whole: Check = (answer) => (/^\d+$/.test(answer) ? undefined : 'a whole number');
const oneOf =
  (...choices: string[]): Check =>
  (answer) =>
    choices.includes(answer) ? undefined : choices.join(' or ');
const list = (value: readonly string[]): string => value.join(', ');
const split = (answer: string): string[] =>
  answer
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '' && item !== '-');

/** Asks the questions of `milagro init`; returns the options with the answers in place of the flags' values. */
export async function askInitChoices(options: InitOptions, streams: QuestionStreams): Promise<InitOptions> {
  const reader = createInterface({ input: streams.input, terminal: false });
  // Lines are buffered by the iterator, so piped answers that arrive at once are not lost between questions.
  const lines = reader[Symbol.asyncIterator]();
  let ended = false;
  const ask = async (question: string, fallback: string, check?: Check): Promise<string> => {
    for (;;) {
      streams.output.write(`${question}${fallback === '' ? '' : ` [${fallback}]`}: `);
      const next = ended ? { done: true as const, value: undefined } : await lines.next();
      if (next.done === true) {
        ended = true;
        streams.output.write(`${fallback}\n`);
      }
      const answer = next.done === true ? fallback : String(next.value).trim() || fallback;
      const problem = check?.(answer);
      if (problem === undefined) return answer;
      if (ended) return answer; // nothing more to read: the final validation names the problem
      streams.output.write(`  expected ${problem}, found ${JSON.stringify(answer)}\n`);
    }
  };
  try {
    streams.output.write('Milagro Server: a new node. Press Enter to take the offer in [brackets]; lists are comma-separated, "-" for none.\n');
    const roles = await ask(`Roles (${MILAGRO_ROLES.join(', ')})`, options.roles, (answer) =>
      split(answer).length > 0 && split(answer).every((role) => (MILAGRO_ROLES as readonly string[]).includes(role)) ? undefined : `a list of ${MILAGRO_ROLES.join(', ')}`,
    );
    const dataDir = await ask('Data directory (relative to the config file)', options.dataDir);
    const httpHost = await ask('HTTP host (0.0.0.0 accepts other hosts)', options.httpHost);
    const httpPort = await ask('HTTP port', options.httpPort, whole);
    const keyStore = await ask('Key store: file (encrypted file in the data dir) or pkcs11 (an HSM)', options.keyStore, oneOf('file', 'pkcs11'));
    let keyStoreOptions: Partial<InitOptions>;
    if (keyStore === 'file') {
      keyStoreOptions = { passphraseEnv: await ask('Environment variable holding the key store passphrase', options.passphraseEnv) };
    } else {
      const pkcs11Module = await ask('PKCS#11 module (path of the library)', options.pkcs11Module ?? '', (answer) => (answer === '' ? 'a path' : undefined));
      const pkcs11TokenLabel = await ask('Token label ("-" for the first token)', options.pkcs11TokenLabel ?? '-');
      const pkcs11PinEnv = await ask('Environment variable holding the token PIN', options.pkcs11PinEnv);
      keyStoreOptions = { pkcs11Module, pkcs11PinEnv, ...(pkcs11TokenLabel === '-' ? {} : { pkcs11TokenLabel }) };
    }
    const ipfs = await ask('IPFS: embedded (in this process) or the RPC URL of a Kubo daemon', options.ipfs, (answer) =>
      answer === 'embedded' || /^https?:\/\/\S+$/.test(answer) ? undefined : 'embedded or an http(s) URL such as http://127.0.0.1:5001',
    );
    const peers = split(await ask('Consortium peers (multiaddrs ending in /p2p/<peer id>)', list(options.peers) || '-'));
    const chosen = split(roles);
    let dtaOptions: Partial<InitOptions> = {};
    if (chosen.includes('dta')) {
      dtaOptions = { trustedProposers: split(await ask('D-TA identities trusted to propose realms', list(options.trustedProposers) || '-')) };
    }
    let mfaOptions: Partial<InitOptions> = {};
    if (chosen.includes('mfa')) {
      const mfaIssuer = await ask('MFA issuer (iss of access tokens, a URL)', options.mfaIssuer ?? '', (answer) => (/^https?:\/\/\S+$/.test(answer) ? undefined : 'a URL'));
      const mfaRealm = await ask('Realm id (as the D-TAs created it)', options.mfaRealm ?? '', (answer) => (answer === '' ? 'a realm id' : undefined));
      const mfaThreshold = await ask('Shares needed (the realm threshold)', options.mfaThreshold ?? '', whole);
      const mfaDtas = split(await ask("The realm's D-TAs as <identity>=<url>", list(options.mfaDtas), (answer) => (split(answer).length > 0 && split(answer).every((entry) => entry.indexOf('=') > 0) ? undefined : '<identity>=<url>, ...')));
      const mfaActivation = await ask('Activation: admin (an operator activates users) or development-outbox', options.mfaActivation, oneOf('admin', 'development-outbox'));
      mfaOptions = { mfaIssuer, mfaRealm, mfaThreshold, mfaDtas, mfaActivation };
    }
    const config = await ask('Write the config to', options.config);
    return { ...options, yes: true, roles, dataDir, httpHost, httpPort, keyStore, ...keyStoreOptions, ipfs, peers, ...dtaOptions, ...mfaOptions, config };
  } finally {
    reader.close();
  }
}
