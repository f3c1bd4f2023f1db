/**
 * The service's Prometheus metrics. Outcome labels are coarse on purpose: `/metrics` must not tell
 * an observer why a login failed (locked, unknown, wrong PIN, expired look the same).
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface MfaMetrics {
  login(pass: '1' | '2', outcome: 'success' | 'failure' | 'rate_limited'): void;
  verification(seconds: number): void;
  registration(event: 'requested' | 'activated'): void;
}

/** Metrics on `registry`; without one, a no-op. */
export function createMfaMetrics(registry: Registry | undefined): MfaMetrics {
  if (registry === undefined) return { login: () => undefined, verification: () => undefined, registration: () => undefined };
  const logins = new Counter({ name: 'mfa_login_total', help: 'Login passes answered, by pass and coarse outcome', labelNames: ['pass', 'outcome'] as const, registers: [registry] });
  const verifications = new Histogram({
    name: 'mfa_login_verification_seconds',
    help: 'Time of the M-Pin pairing check of pass 2',
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
    registers: [registry],
  });
  const registrations = new Counter({ name: 'mfa_registrations_total', help: 'Registrations requested and activated', labelNames: ['event'] as const, registers: [registry] });
  return {
    login: (pass, outcome) => logins.inc({ pass, outcome }),
    verification: (seconds) => verifications.observe(seconds),
    registration: (event) => registrations.inc({ event }),
  };
}
