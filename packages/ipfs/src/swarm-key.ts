import { randomBytes } from 'node:crypto';
import { IpfsError } from './errors.js';

const HEADER = '/key/swarm/psk/1.0.0/\n/base16/\n';

/**
 * Creates a new private-network key in the `swarm.key` format Kubo and libp2p pnet share:
 * the nodes holding the same key form a network no other node can connect to.
 */
export function generateSwarmKey(): string {
  return `${HEADER}${randomBytes(32).toString('hex')}\n`;
}

/** Validates a `swarm.key` text (Kubo's format, base16 only) and returns it as bytes for libp2p pnet. */
export function parseSwarmKey(key: string | Uint8Array): Uint8Array {
  const text = typeof key === 'string' ? key : new TextDecoder().decode(key);
  const lines = text.trim().split(/\r?\n/);
  if (lines.length !== 3 || lines[0] !== '/key/swarm/psk/1.0.0/' || lines[1] !== '/base16/' || !/^[0-9a-fA-F]{64}$/.test(lines[2] ?? '')) {
    throw new IpfsError('INVALID_CONFIG', 'swarm key must be "/key/swarm/psk/1.0.0/", "/base16/" and 64 hex digits');
  }
  return new TextEncoder().encode(`${HEADER}${lines[2] ?? ''}\n`);
}
