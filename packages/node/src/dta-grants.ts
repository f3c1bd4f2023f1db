/**
 * The MFA service's `GrantIssuer` over @milagro/dta: one client-secret grant per D-TA of the realm,
 * signed by this server's identity (the realm's `mfaService`), with the D-TA as audience.
 */
import { createGrant } from '@milagro/dta';
import type { KeyStore } from '@milagro/keystore';
import type { GrantIssuer, IssuedGrant } from '@milagro/mfa';
import { identitySigner, type OwnedIdentity } from '@milagro/pki';

export interface DtaGrantOptions {
  readonly identity: OwnedIdentity;
  readonly keyStore: KeyStore;
  readonly realmId: string;
  readonly dtas: ReadonlyArray<{ readonly id: string; readonly url: string }>;
  readonly lifetimeSeconds: number;
}

export function dtaGrantIssuer(options: DtaGrantOptions): GrantIssuer {
  const signer = identitySigner(options.identity, options.keyStore);
  return {
    lifetimeSeconds: options.lifetimeSeconds,
    issue: (identity: Uint8Array): Promise<IssuedGrant[]> =>
      Promise.all(
        options.dtas.map(async (dta) => ({
          dta: dta.id,
          url: dta.url,
          token: await createGrant({ signer, purpose: 'client-secret', realm: options.realmId, audience: dta.id, identity, lifetimeSeconds: options.lifetimeSeconds }),
        })),
      ),
  };
}
