/**
 * node:crypto `KeyObject`s of public keys are parsed once and reused (a D-TA verifies every grant
 * against the same MFA service key). The cache is keyed by the exact key bytes: a verification never
 * uses another key's object, also after eviction and with keys that share a prefix.
 */
import { compositeSign, compositeVerify, generateCompositeKeyPair } from '../src/index.js';

const message = new TextEncoder().encode('grant bytes');

describe('cached verification keys', () => {
  it('verify the right key, refuse every other one, across more keys than the cache holds', () => {
    const pairs = Array.from({ length: 300 }, () => generateCompositeKeyPair());
    const signatures = pairs.map((pair) => compositeSign(pair.secretKey, message));
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < pairs.length; i += 1) {
        expect(compositeVerify(pairs[i]!.publicKey, message, signatures[i]!)).toBe(true);
        const other = pairs[(i + 1) % pairs.length]!;
        expect(compositeVerify(other.publicKey, message, signatures[i]!)).toBe(false);
      }
    }
  }, 120_000);

  it('do not confuse keys that differ in one byte, nor a key whose bytes change after use', () => {
    const pair = generateCompositeKeyPair();
    const signature = compositeSign(pair.secretKey, message);
    expect(compositeVerify(pair.publicKey, message, signature)).toBe(true);
    for (const index of [0, 31, 32, 1000, pair.publicKey.length - 1]) {
      const changed = pair.publicKey.slice();
      changed[index]! ^= 1;
      expect(compositeVerify(changed, message, signature)).toBe(false);
    }
    const reused = pair.publicKey.slice();
    expect(compositeVerify(reused, message, signature)).toBe(true);
    reused[5]! ^= 0x80; // the same array object, now another key
    expect(compositeVerify(reused, message, signature)).toBe(false);
  });
});
