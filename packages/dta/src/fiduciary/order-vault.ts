/**
 * An order's key-store key, handed to plugins. Accept-once at the key store: a key is created with
 * `import`/`generate`, which refuse a label that exists, and a refused create falls back to the key
 * already there. So a replayed order, a race between replicas or a restart after a crash can never
 * replace a secret a fulfilment was issued for.
 */
import { isKeyStoreError, type KeyStore, type KeyType } from '@milagro/keystore';
import { DtaError } from '../errors.js';
import type { OrderVault } from './fiduciary-plugin.js';

/** Key-store label of an order's secret. */
export function orderKeyLabel(reference: string): string {
  return `dta/order/${reference}`;
}

async function existingType(keyStore: KeyStore, label: string): Promise<KeyType | undefined> {
  try {
    return (await keyStore.describe({ label })).type;
  } catch (error) {
    if (isKeyStoreError(error, 'NOT_FOUND')) return undefined;
    throw error;
  }
}

function requireType(actual: KeyType | undefined, expected: KeyType, label: string): void {
  if (actual !== undefined && actual !== expected) {
    throw new DtaError('CONFLICT', `"${label}" holds a ${actual} key, the plugin expects ${expected}`);
  }
}

/** Creates the key with `create` unless one exists; a lost race leaves the winner's key in place. */
async function ensureKey(keyStore: KeyStore, label: string, type: KeyType, create: () => Promise<unknown>): Promise<void> {
  const before = await existingType(keyStore, label);
  requireType(before, type, label);
  if (before !== undefined) return;
  try {
    await create();
  } catch (error) {
    if (!isKeyStoreError(error, 'ALREADY_EXISTS')) throw error;
    requireType(await existingType(keyStore, label), type, label);
  }
}

export function orderVault(keyStore: KeyStore, reference: string): OrderVault {
  const label = orderKeyLabel(reference);
  const ref = { label };
  return {
    label,
    async keepSecret(create) {
      await ensureKey(keyStore, label, 'secret', async () => {
        const secret = create();
        try {
          await keyStore.import('secret', secret, { label });
        } finally {
          secret.fill(0);
        }
      });
      return keyStore.exportSecret(ref);
    },
    async readSecret() {
      requireType(await existingType(keyStore, label), 'secret', label);
      return keyStore.exportSecret(ref);
    },
    async encrypt(plaintext, associatedData) {
      await ensureKey(keyStore, label, 'aes-256', () => keyStore.generate('aes-256', { label }));
      return keyStore.encrypt(ref, plaintext, associatedData);
    },
    async decrypt(sealed, associatedData) {
      requireType(await existingType(keyStore, label), 'aes-256', label);
      return keyStore.decrypt(ref, sealed, associatedData);
    },
  };
}

/** Deletes an order's key once its release is recorded; a missing key is fine (already deleted). */
export async function deleteOrderKey(keyStore: KeyStore, reference: string): Promise<void> {
  try {
    await keyStore.delete({ label: orderKeyLabel(reference) });
  } catch (error) {
    if (!isKeyStoreError(error, 'NOT_FOUND')) throw error;
  }
}
