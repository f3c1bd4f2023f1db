/** The MFA server's configuration: defaults, and refusals that name the key and never echo a secret. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNodeError } from '@milagro/node';
import { loadConfig, parseConfig } from '../src/config.js';

const DTAS = [1, 2, 3].map((i) => ({ id: `bafyreidta${i}`, url: `https://dta${i}.acme.example` }));
const minimal = (mfa: Record<string, unknown> = {}) => ({
  dataDir: 'data',
  mfa: { issuer: 'https://login.acme.example', realm: { id: 'acme', threshold: 2, dtas: DTAS }, activation: { kind: 'admin' }, ...mfa },
});

function refusal(raw: unknown): string {
  try {
    parseConfig(raw, '/srv/mfa');
  } catch (error) {
    expect(isNodeError(error, 'INVALID_CONFIG')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('MFA server configuration', () => {
  it('fills in the defaults and resolves dataDir against the config directory', () => {
    const config = parseConfig(minimal(), '/srv/mfa');
    expect(config.dataDir).toBe('/srv/mfa/data');
    expect(config.mfa.realm.grantLifetimeSeconds).toBe(300);
    expect(config.mfa.adminToken).toEqual({ env: 'MILAGRO_MFA_ADMIN_TOKEN' });
    expect(config.http.port).toBe(8080);
    expect(config.curveBackend).toBe('mcl');
  });

  it('refuses a threshold above the number of D-TAs, a D-TA listed twice, and unknown keys, naming the path', () => {
    expect(refusal(minimal({ realm: { id: 'acme', threshold: 4, dtas: DTAS } }))).toContain('mfa.realm.threshold');
    expect(refusal(minimal({ realm: { id: 'acme', threshold: 2, dtas: [DTAS[0], DTAS[0]] } }))).toContain('mfa.realm.dtas');
    expect(refusal(minimal({ surprise: true }))).toContain('mfa');
    expect(refusal({ ...minimal(), extra: 1 })).toContain('extra');
    expect(refusal(minimal({ realm: { id: 'Acme!', threshold: 2, dtas: DTAS } }))).toContain('mfa.realm.id');
  });

  it('refuses SMTP credentials without TLS and a password without a user; accepts STARTTLS by default', () => {
    const email = (smtp: Record<string, unknown>) => minimal({ activation: { kind: 'email', from: 'login@acme.example', smtp } });
    expect(refusal(email({ host: 'smtp.acme.example', security: 'none', user: 'mfa', password: { env: 'SMTP_PASSWORD' } }))).toContain('mfa.activation.smtp.security');
    expect(refusal(email({ host: 'smtp.acme.example', password: { env: 'SMTP_PASSWORD' } }))).toContain('mfa.activation.smtp.password');
    const config = parseConfig(email({ host: 'smtp.acme.example', user: 'mfa', password: { env: 'SMTP_PASSWORD' } }));
    expect(config.mfa.activation).toMatchObject({ kind: 'email', smtp: { security: 'starttls' } });
  });

  it('loads the file named by --config and never echoes a secret from it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfa-config-'));
    try {
      const path = join(dir, 'mfa.json');
      writeFileSync(path, JSON.stringify(minimal({ adminToken: 'inline-secret-value-1234' })));
      let message = '';
      try {
        loadConfig(['--config', path]);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('mfa.adminToken');
      expect(message).not.toContain('inline-secret-value-1234');
      writeFileSync(path, JSON.stringify(minimal()));
      expect(loadConfig(['--config', path]).dataDir).toBe(join(dir, 'data'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
