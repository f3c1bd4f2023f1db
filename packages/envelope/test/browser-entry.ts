/** Entry bundled for the headless-browser test: exposes seal/open on `globalThis.envelopeTest`. */
import { bytesToHex, hexToBytes } from '@milagro/crypto';
import { encodeEnvelope, isEnvelopeError, openEnvelope, sealEnvelope } from '../src/index.js';
import { testRecipient, testSender } from './identities.js';

const alice = testSender('alice');
const bob = testRecipient('bob');

(globalThis as unknown as { envelopeTest: unknown }).envelopeTest = {
  /** Where this runs: proves the page, not Node, did the work (no `process`, so no node:crypto). */
  runtime(): { userAgent: string; hasProcess: boolean } {
    return { userAgent: navigator.userAgent, hasProcess: typeof (globalThis as { process?: unknown }).process !== 'undefined' };
  },
  async seal(): Promise<string> {
    const body = new TextEncoder().encode('sealed in the browser'.repeat(4000));
    const envelope = await sealEnvelope({ from: alice.signer, to: [bob.publicKey], type: 'milagro/test/note', chunkSize: 4096, body });
    return bytesToHex(encodeEnvelope(envelope));
  },
  async open(hex: string): Promise<string> {
    try {
      const { body } = await openEnvelope(hexToBytes(hex), { sender: alice.publicKey, recipient: bob.key });
      return new TextDecoder().decode(body);
    } catch (err) {
      return isEnvelopeError(err) ? `EnvelopeError:${err.code}` : `other:${String(err)}`;
    }
  },
};
