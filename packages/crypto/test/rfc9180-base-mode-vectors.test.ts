import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { hpkeOpen } from '../src/hpke/open.js';
import { sealWithContext } from '../src/hpke/seal.js';
import { createRecipientContext, createSenderContext, describeSuite, type HpkeSuiteName } from '../src/hpke/suite.js';
import vectors from './vectors/rfc9180-base-mode.json';

// RFC 9180 Appendix A.1.1 (AES-128-GCM) and A.2.1 (ChaCha20Poly1305), DHKEM(X25519, HKDF-SHA256), base mode.
const SUITE_BY_AEAD: Record<number, HpkeSuiteName> = {
  1: 'DHKEM-X25519/HKDF-SHA256/AES-128-GCM',
  3: 'DHKEM-X25519/HKDF-SHA256/ChaCha20Poly1305',
};

describe.each(vectors.vectors.map((v) => [v.name, v] as const))('RFC 9180 %s', (_name, v) => {
  const suite = SUITE_BY_AEAD[v.aead_id]!;
  const info = hexToBytes(v.info);
  const first = v.encryptions[0]!;

  it('derives the recipient and ephemeral key pairs from ikmR and ikmE', async () => {
    const { kem } = describeSuite(suite).suite;
    for (const [ikm, sk, pk] of [
      [v.ikmR, v.skRm, v.pkRm],
      [v.ikmE, v.skEm, v.pkEm],
    ] as const) {
      const pair = await kem.deriveKeyPair(hexToBytes(ikm));
      expect(bytesToHex(new Uint8Array(await kem.serializePrivateKey(pair.privateKey)))).toBe(sk);
      expect(bytesToHex(new Uint8Array(await kem.serializePublicKey(pair.publicKey)))).toBe(pk);
    }
  });

  it('single-shot seal with the injected ephemeral key gives enc and the sequence-0 ciphertext', async () => {
    const sealed = await sealWithContext(
      hexToBytes(v.pkRm),
      hexToBytes(first.pt),
      { suite, info, aad: hexToBytes(first.aad) },
      hexToBytes(v.ikmE),
    );
    expect(bytesToHex(sealed.enc)).toBe(v.enc);
    expect(bytesToHex(sealed.ciphertext)).toBe(first.ct);
  });

  it('single-shot open recovers the plaintext with skRm', async () => {
    const opened = await hpkeOpen(hexToBytes(v.skRm), hexToBytes(v.enc), hexToBytes(first.ct), {
      suite,
      info,
      aad: hexToBytes(first.aad),
    });
    expect(bytesToHex(opened)).toBe(first.pt);
  });

  it('the sender context reproduces every listed encryption and export', async () => {
    const sender = await createSenderContext(suite, hexToBytes(v.pkRm), info, hexToBytes(v.ikmE));
    const recipient = await createRecipientContext(suite, hexToBytes(v.skRm), hexToBytes(v.enc), info);
    for (const e of v.encryptions) {
      expect(e.seq).toBe(v.encryptions.indexOf(e)); // consecutive from 0, so the context's counter matches
      const ct = new Uint8Array(await sender.seal(hexToBytes(e.pt), hexToBytes(e.aad)));
      expect(bytesToHex(ct)).toBe(e.ct);
      expect(bytesToHex(new Uint8Array(await recipient.open(ct, hexToBytes(e.aad))))).toBe(e.pt);
    }
    for (const x of v.exports) {
      const exported = new Uint8Array(await sender.export(hexToBytes(x.exporter_context), x.L));
      expect(bytesToHex(exported)).toBe(x.exported_value);
    }
  });
});
