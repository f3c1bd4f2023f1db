/**
 * Milagro's own M-Pin test vectors (apache/incubator-milagro-crypto-c, testVectors/mpin/BLS381.json,
 * Apache-2.0), read from the shared folder beside the repository; see its README.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '../../..');
/** Where the vectors live: `../shared/vectors/milagro-mpin/BLS381.json` from the repository root. */
export const MILAGRO_VECTORS_PATH = path.resolve(repoRoot, '../shared/vectors/milagro-mpin/BLS381.json');

/** One Milagro test case; all byte fields are lowercase hex. */
export interface MilagroCase {
  TEST: number;
  MPINId: string;
  MS1: string;
  MS2: string;
  PIN1: number;
  PIN2: number;
  SS1: string;
  SS2: string;
  SS: string;
  CS1: string;
  CS2: string;
  CS: string;
  TOKEN: string;
  X: string;
  U: string;
  Y: string;
  V: string;
  AuthResult: number;
}

/** The 150 cases, or `undefined` when the shared folder is absent. */
export function loadMilagroVectors(): MilagroCase[] | undefined {
  if (!existsSync(MILAGRO_VECTORS_PATH)) return undefined;
  return JSON.parse(readFileSync(MILAGRO_VECTORS_PATH, 'utf8')) as MilagroCase[];
}
