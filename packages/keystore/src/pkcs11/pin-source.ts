import { readFileSync } from 'node:fs';
import { KeyStoreError } from '../errors.js';

/**
 * Where the PKCS#11 user PIN comes from: an environment variable or a file (e.g. a mounted secret).
 * Never a literal and never a command-line argument, so it does not show in `ps`, shell history or
 * config dumps. It is read at each login and never logged.
 */
export type PinSource = { readonly env: string } | { readonly file: string };

/** Reads the PIN; `PIN_UNAVAILABLE` if the variable or file is missing or empty. One trailing newline is dropped. */
export function readPin(source: PinSource): string {
  let pin: string | undefined;
  if ('env' in source) {
    pin = process.env[source.env];
    if (!pin) throw new KeyStoreError('PIN_UNAVAILABLE', `environment variable ${source.env} is not set`);
  } else {
    try {
      pin = readFileSync(source.file, 'utf8').replace(/\r?\n$/, '');
    } catch (cause) {
      throw new KeyStoreError('PIN_UNAVAILABLE', `cannot read the PIN file ${source.file}`, { cause });
    }
    if (!pin) throw new KeyStoreError('PIN_UNAVAILABLE', `the PIN file ${source.file} is empty`);
  }
  return pin;
}
