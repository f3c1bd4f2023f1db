/**
 * The ZKP MFA service: registration with a pluggable activation verifier, grants for the realm's
 * D-TAs on activation, and the two-pass M-Pin login with single-use sessions and a persistent
 * wrong-PIN counter in the shared database. The service holds no user secret. Spec:
 * docs/specs/mfa-api.md; threats and their tests: docs/specs/mfa-threat-model.md.
 */
import { base64urlToBytes, bytesToBase64url, randomBytes, sha256, utf8ToBytes } from '@milagro/crypto';
import { createChallenge, createSuite, type MpinSuite } from '@milagro/mpin';
import type { SqlDatabase } from '@milagro/storage';
import { Histogram, type Registry } from 'prom-client';
import { publicJwk, signJwt, verifyJwt, type AccessTokenClaims, type AccessTokenSigner, type Ed25519Jwk } from './access-token.js';
import type { ActivationVerifier } from './activation.js';
import {
  CODE_BYTES,
  DEFAULT_GRANT_WINDOW_SECONDS,
  DEFAULT_MAX_ACTIVATION_ATTEMPTS,
  DEFAULT_MAX_FAILURES,
  DEFAULT_RATE_LIMIT_PER_IDENTITY,
  DEFAULT_RATE_LIMIT_PER_IP,
  DEFAULT_REGISTRATION_TTL_SECONDS,
  DEFAULT_SESSION_TTL_SECONDS,
  DEFAULT_TOKEN_TTL_SECONDS,
  SECRET_ID_BYTES,
} from './constants.js';
import { MfaError, activationFailed, authenticationFailed } from './errors.js';
import type { GrantIssuer, IssuedGrant } from './grant-issuer.js';
import { DEFAULT_MAX_VERIFICATION_BATCH, LoginVerification, verificationBatchMetric } from './login-verification.js';
import { MfaRepository, type PendingRegistration } from './mfa-repository.js';
import { createMfaMetrics, type MfaMetrics } from './mfa-metrics.js';
import { RateLimiter, type RateLimit } from './rate-limiter.js';
import { checkServerSecret, type ServerSecretSource } from './server-secret.js';

/** Structured logging (a pino logger fits). Never handed a secret. */
export interface MfaLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** The realm the service authenticates for, as told to clients. */
export interface MfaRealm {
  readonly id: string;
  /** Shares a client needs (t). */
  readonly threshold: number;
}

/** Limits and lifetimes (defaults in `constants.ts`, documented in docs/specs/mfa-api.md). */
export interface MfaLimits {
  readonly maxFailures?: number;
  readonly sessionTtlSeconds?: number;
  readonly tokenTtlSeconds?: number;
  readonly registrationTtlSeconds?: number;
  readonly maxActivationAttempts?: number;
  readonly grantWindowSeconds?: number;
  readonly perIp?: RateLimit;
  readonly perIdentity?: RateLimit;
}

export interface MfaServiceOptions {
  readonly db: SqlDatabase;
  readonly realm: MfaRealm;
  /** M-Pin suite and backend; default `createSuite()` (modern, noble). Use the mcl-wasm backend for throughput. */
  readonly suite?: MpinSuite;
  readonly serverSecret: ServerSecretSource;
  readonly grants: GrantIssuer;
  readonly activation: ActivationVerifier;
  /** Signs access tokens: `keyStoreTokenSigner(keyStore)`. */
  readonly tokenSigner: AccessTokenSigner;
  /** `iss` of access tokens (the service's public URL or name). */
  readonly issuer: string;
  /** `aud` of access tokens, when the relying party wants one. */
  readonly audience?: string;
  readonly limits?: MfaLimits;
  /**
   * Most pass-2 proofs verified together (default 32): the proofs that arrive in one turn of the
   * event loop share one pairing product. 1 verifies each proof alone.
   */
  readonly maxVerificationBatch?: number;
  /** Registry for the service's metrics (share it with `createHttpServer({ metrics: { registry } })`). */
  readonly registry?: Registry;
  readonly logger?: MfaLogger;
  /** Milliseconds since the epoch; for tests. */
  readonly clock?: () => number;
}

/** A fresh registration as returned to the requesting device. */
export interface RegistrationTicket {
  /** The device's secret: needed to activate. */
  readonly registration: string;
  readonly reference: string;
  readonly expiresAt: number;
  readonly activation: ActivationVerifier['method'];
}

/** What an activated device receives. */
export interface Activation {
  readonly userId: string;
  readonly identity: Uint8Array;
  readonly realm: { readonly id: string; readonly threshold: number; readonly suite: string; readonly pinDigits: number };
  readonly grants: readonly IssuedGrant[];
  readonly grantsExpireAt: number;
}

export interface LoginChallenge {
  readonly session: string;
  readonly y: Uint8Array;
  readonly expiresAt: number;
}

export interface LoginSuccess {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly userId: string;
}

const NOOP_LOGGER: MfaLogger = { info: () => undefined, warn: () => undefined };
/** Longest identity accepted (ours are ~100 bytes). */
export const MAX_IDENTITY_BYTES = 1024;

/** Retry delays of the server-secret source, in ms (the last repeats). */
const SECRET_RETRY_MS = [200, 1000, 5000];
/** Sweep expired sessions and revocations this often. */
const PRUNE_INTERVAL_MS = 60_000;

export class MfaService {
  readonly #repository: MfaRepository;
  readonly #options: MfaServiceOptions;
  readonly #suite: MpinSuite;
  readonly #log: MfaLogger;
  readonly #metrics: MfaMetrics;
  readonly #now: () => number;
  readonly #limits: Required<MfaLimits>;
  readonly #perIp: RateLimiter;
  readonly #perIdentity: RateLimiter;
  readonly #stop = new AbortController();
  readonly #maxVerificationBatch: number;
  readonly #batchMetric: (batch: { size: number; held: boolean }) => void;
  /** Set once a checked server secret is loaded. */
  #verification: LoginVerification | undefined;
  #starting: Promise<void> | undefined;
  #pruner: NodeJS.Timeout | undefined;

  private constructor(repository: MfaRepository, options: MfaServiceOptions) {
    this.#repository = repository;
    this.#options = options;
    this.#suite = options.suite ?? createSuite();
    this.#log = options.logger ?? NOOP_LOGGER;
    this.#metrics = createMfaMetrics(options.registry);
    this.#now = options.clock ?? Date.now;
    const limits = options.limits ?? {};
    this.#limits = {
      maxFailures: limits.maxFailures ?? DEFAULT_MAX_FAILURES,
      sessionTtlSeconds: limits.sessionTtlSeconds ?? DEFAULT_SESSION_TTL_SECONDS,
      tokenTtlSeconds: limits.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS,
      registrationTtlSeconds: limits.registrationTtlSeconds ?? DEFAULT_REGISTRATION_TTL_SECONDS,
      maxActivationAttempts: limits.maxActivationAttempts ?? DEFAULT_MAX_ACTIVATION_ATTEMPTS,
      grantWindowSeconds: limits.grantWindowSeconds ?? DEFAULT_GRANT_WINDOW_SECONDS,
      perIp: limits.perIp ?? DEFAULT_RATE_LIMIT_PER_IP,
      perIdentity: limits.perIdentity ?? DEFAULT_RATE_LIMIT_PER_IDENTITY,
    };
    if (!Number.isSafeInteger(this.#limits.maxFailures) || this.#limits.maxFailures < 1) throw new RangeError('maxFailures must be a positive integer');
    this.#maxVerificationBatch = options.maxVerificationBatch ?? DEFAULT_MAX_VERIFICATION_BATCH;
    if (!Number.isSafeInteger(this.#maxVerificationBatch) || this.#maxVerificationBatch < 1) throw new RangeError('maxVerificationBatch must be a positive integer');
    this.#batchMetric = verificationBatchMetric(options.registry, this.#maxVerificationBatch);
    this.#perIp = new RateLimiter(this.#limits.perIp);
    this.#perIdentity = new RateLimiter(this.#limits.perIdentity);
  }

  /** Opens the service over `db` (applying its migrations). Call {@link start} to load the server secret. */
  static async open(options: MfaServiceOptions): Promise<MfaService> {
    return new MfaService(await MfaRepository.open(options.db, { onGroupCommit: groupCommitMetric(options.registry) }), options);
  }

  /**
   * Loads and self-checks the server secret, retrying with backoff until it succeeds or the service
   * closes; resolves when the service is ready. Also starts the periodic sweep of expired state.
   */
  start(): Promise<void> {
    this.#starting ??= this.#loadServerSecret();
    if (this.#pruner === undefined) {
      this.#pruner = setInterval(() => void this.#repository.prune(this.#seconds()).catch(() => undefined), PRUNE_INTERVAL_MS);
      this.#pruner.unref();
    }
    return this.#starting;
  }

  /** True once a validated server secret is loaded (what `/readyz` reports). */
  isReady(): boolean {
    return this.#verification !== undefined && !this.#stop.signal.aborted;
  }

  async #loadServerSecret(): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      if (this.#stop.signal.aborted) throw new MfaError('CLOSED', 'the service was closed');
      try {
        const material = await this.#options.serverSecret.load(this.#stop.signal);
        this.#verification = new LoginVerification(checkServerSecret(this.#suite, material), {
          maxBatch: this.#maxVerificationBatch,
          onBatch: (batch) => {
            this.#batchMetric(batch);
            // Each login's share of its batch: the histogram's sum stays the time spent verifying.
            for (let i = 0; i < batch.size; i++) this.#metrics.verification(batch.seconds / batch.size);
          },
        });
        this.#log.info({ event: 'server-secret', checked: material.groupPublicKey !== undefined ? 'group-public-key' : 'point' }, 'server secret loaded');
        return;
      } catch (error) {
        // The error may come from the app's source; log its code only, never its content.
        this.#log.warn({ event: 'server-secret', attempt, code: (error as { code?: unknown }).code }, 'server secret not available yet');
        const delay = SECRET_RETRY_MS[Math.min(attempt, SECRET_RETRY_MS.length - 1)] as number;
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.#stop.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve(undefined);
          }, { once: true });
        });
      }
    }
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  /** Each operation has its own window per address: a login's pass 1 does not eat into its pass 2. */
  #limitIp(operation: 'register' | 'pass1' | 'pass2', clientAddress: string): void {
    const retryAfter = this.#perIp.take(`${operation}:${clientAddress}`, this.#now());
    if (retryAfter > 0) throw Object.assign(new MfaError('RATE_LIMITED', 'too many requests from this address'), { retryAfter });
  }

  #identityFor(reference: string, userId: string): Uint8Array {
    // Keys in this order (docs/specs/mfa-api.md §2); a new registration gives a new identity.
    return utf8ToBytes(JSON.stringify({ realm: this.#options.realm.id, registration: reference, user: userId }));
  }

  // ---- registration ---------------------------------------------------------------------------

  /** A device asks to register for `userId`; the verifier delivers the activation code (or waits for an operator). */
  async requestRegistration(input: { userId: string; deviceName: string; clientAddress: string }): Promise<RegistrationTicket> {
    this.#limitIp('register', input.clientAddress);
    const secret = randomBytes(SECRET_ID_BYTES);
    const reference = bytesToBase64url(randomBytes(CODE_BYTES));
    const code = bytesToBase64url(randomBytes(CODE_BYTES));
    const created = this.#seconds();
    const expiresAt = created + this.#limits.registrationTtlSeconds;
    await this.#repository.createRegistration({
      reference,
      secretHash: sha256(secret),
      userId: input.userId,
      deviceName: input.deviceName,
      codeHash: sha256(utf8ToBytes(code)),
      created,
      expires: expiresAt,
    });
    await this.#options.activation.deliver({ reference, userId: input.userId, deviceName: input.deviceName, code, expiresAt });
    this.#metrics.registration('requested');
    this.#log.info({ event: 'registration-requested', reference, method: this.#options.activation.method }, 'registration requested');
    return { registration: bytesToBase64url(secret), reference, expiresAt, activation: this.#options.activation.method };
  }

  /**
   * Activates a registration (its device secret, plus the code unless an operator approved it),
   * replaces the user's earlier devices, and issues grants for the realm's D-TAs.
   * @throws MfaError `ACTIVATION_FAILED` for every failure, `GRANTS_UNAVAILABLE` when the issuer fails.
   */
  async activate(input: { registration: string; code?: string | undefined }): Promise<Activation> {
    const secretHash = secretIdHash(input.registration);
    const method = this.#options.activation.method;
    if (secretHash === undefined || (method === 'code' && input.code === undefined)) throw activationFailed();
    const activated = await this.#repository.activate({
      secretHash,
      proof: method === 'approval' ? { approval: true } : { codeHash: sha256(utf8ToBytes(input.code as string)) },
      now: this.#seconds(),
      maxAttempts: this.#limits.maxActivationAttempts,
      identityFor: (reference, userId) => this.#identityFor(reference, userId),
      identityHash: sha256,
    });
    if (activated === undefined) {
      this.#log.info({ event: 'activation-failed' }, 'activation failed');
      throw activationFailed();
    }
    this.#metrics.registration('activated');
    this.#log.info({ event: 'activated', reference: activated.reference }, 'registration activated');
    return this.#activation(activated.userId, activated.identity);
  }

  /** Fresh grants for a device activated less than `grantWindowSeconds` ago. */
  async reissueGrants(input: { registration: string }): Promise<Activation> {
    const secretHash = secretIdHash(input.registration);
    const since = this.#seconds() - this.#limits.grantWindowSeconds;
    const active = secretHash === undefined ? undefined : await this.#repository.activeRegistration(secretHash, since);
    if (active === undefined) throw activationFailed();
    return this.#activation(active.userId, active.identity);
  }

  async #activation(userId: string, identity: Uint8Array): Promise<Activation> {
    let grants: readonly IssuedGrant[];
    try {
      grants = await this.#options.grants.issue(identity);
    } catch (error) {
      throw new MfaError('GRANTS_UNAVAILABLE', 'grants could not be issued; ask again with POST /v1/grants', { cause: error });
    }
    const { realm } = this.#options;
    return {
      userId,
      identity,
      realm: { id: realm.id, threshold: realm.threshold, suite: this.#suite.name, pinDigits: this.#suite.pinDigits },
      grants,
      grantsExpireAt: this.#seconds() + this.#options.grants.lifetimeSeconds,
    };
  }

  /** Operator approval; false when `reference` names no pending registration. */
  approveRegistration(reference: string): Promise<boolean> {
    return this.#repository.approve(reference, this.#seconds());
  }

  pendingRegistrations(): Promise<PendingRegistration[]> {
    return this.#repository.pendingRegistrations(this.#seconds());
  }

  // ---- login ----------------------------------------------------------------------------------

  #requireReady(): LoginVerification {
    if (this.#stop.signal.aborted) throw new MfaError('CLOSED', 'the service was closed');
    if (this.#verification === undefined) throw new MfaError('NOT_READY', 'the server secret is not loaded yet');
    return this.#verification;
  }

  /**
   * Pass 1: stores a single-use session (random id, challenge y, U, the identity) and returns the id
   * and y. Answers every identity alike, registered or not, locked or not.
   * @throws MfaError `AUTHENTICATION_FAILED` for an invalid U, `RATE_LIMITED` per client address.
   */
  async loginPass1(input: { identity: Uint8Array; u: Uint8Array; clientAddress: string }): Promise<LoginChallenge> {
    this.#requireReady();
    try {
      this.#limitIp('pass1', input.clientAddress);
    } catch (error) {
      this.#metrics.login('1', 'rate_limited');
      throw error;
    }
    if (input.identity.length === 0 || input.identity.length > MAX_IDENTITY_BYTES) throw this.#failed('1');
    try {
      this.#suite.decodeG1(input.u);
    } catch {
      throw this.#failed('1');
    }
    const identityHash = sha256(input.identity);
    // Over the per-identity budget: a challenge that can never succeed (the session is not stored).
    const throttled = this.#perIdentity.take(`pass1:${bytesToBase64url(identityHash)}`, this.#now()) > 0;
    const session = randomBytes(SECRET_ID_BYTES);
    const { challenge } = createChallenge(this.#suite);
    const expiresAt = this.#seconds() + this.#limits.sessionTtlSeconds;
    if (!throttled) {
      await this.#repository.createSession({ idHash: sha256(session), identity: input.identity, identityHash, u: input.u, y: challenge.y, expires: expiresAt });
    }
    this.#metrics.login('1', 'success');
    return { session: bytesToBase64url(session), y: challenge.y, expiresAt };
  }

  /**
   * Pass 2: consumes the session, reserves an attempt, verifies V against the server secret, and on
   * success resets the counter and issues an access token.
   * @throws MfaError `AUTHENTICATION_FAILED` for every failure, `RATE_LIMITED` per client address.
   */
  async loginPass2(input: { session: string; v: Uint8Array; clientAddress: string }): Promise<LoginSuccess> {
    const verification = this.#requireReady();
    try {
      this.#limitIp('pass2', input.clientAddress);
    } catch (error) {
      this.#metrics.login('2', 'rate_limited');
      throw error;
    }
    const idHash = secretIdHash(input.session);
    if (idHash === undefined) throw this.#failed('2');
    const consumed = await this.#repository.consumeSession(idHash, this.#seconds(), this.#limits.maxFailures);
    if (consumed.kind === 'missing' || consumed.kind === 'expired') throw this.#failed('2', consumed.kind);
    const throttled = this.#perIdentity.take(`pass2:${bytesToBase64url(consumed.identityHash)}`, this.#now()) > 0;
    // The pairing runs for every consumed session, so timing does not separate unknown or locked identities from wrong PINs.
    // A batch that holds costs less than one that fails (its bisection), so a login that fails whatever
    // its proof (unknown, locked, throttled) is checked against a fresh challenge it cannot answer:
    // it costs what a wrong PIN costs even with the right PIN, and timing does not reveal a right PIN
    // for a locked identity (docs/specs/mfa-threat-model.md, T10).
    const refused = consumed.kind !== 'reserved' || throttled;
    const y = refused ? createChallenge(this.#suite).challenge.y : consumed.y;
    const verdict = await verification.verify({ identity: consumed.identity, u: consumed.u, v: input.v, y });
    if (refused || !verdict.ok) {
      throw this.#failed('2', consumed.kind !== 'reserved' ? 'refused' : throttled ? 'throttled' : verdict.ok ? 'ok' : verdict.reason);
    }
    await this.#repository.recordLoginSuccess(consumed.reference as string);
    const userId = consumed.userId as string;
    const accessToken = await this.#issueToken(userId);
    this.#metrics.login('2', 'success');
    this.#log.info({ event: 'login', outcome: 'success', reference: consumed.reference }, 'login succeeded');
    return { accessToken, expiresIn: this.#limits.tokenTtlSeconds, userId };
  }

  /** Counts and logs a failure (the reason goes to the operator's log only) and returns the one generic error. */
  #failed(pass: '1' | '2', reason = 'invalid'): MfaError {
    this.#metrics.login(pass, 'failure');
    this.#log.info({ event: 'login', pass, outcome: 'failure', reason }, 'login failed');
    return authenticationFailed();
  }

  async #issueToken(userId: string): Promise<string> {
    const iat = this.#seconds();
    return signJwt(this.#options.tokenSigner, {
      iss: this.#options.issuer,
      sub: userId,
      ...(this.#options.audience === undefined ? {} : { aud: this.#options.audience }),
      iat,
      exp: iat + this.#limits.tokenTtlSeconds,
      jti: bytesToBase64url(randomBytes(CODE_BYTES)),
      amr: ['mfa', 'pin'],
    });
  }

  // ---- tokens ---------------------------------------------------------------------------------

  /** The JWKS of the token key. */
  jwks(): { keys: Ed25519Jwk[] } {
    return { keys: [publicJwk(this.#options.tokenSigner)] };
  }

  /**
   * The claims of a valid, unexpired, not logged-out token of this service.
   * @throws MfaError `NOT_AUTHENTICATED` otherwise.
   */
  async verifyAccessToken(token: string): Promise<AccessTokenClaims> {
    const claims = verifyJwt(token, this.jwks().keys, { issuer: this.#options.issuer, audience: this.#options.audience, nowSeconds: this.#seconds() });
    if (claims === undefined || (await this.#repository.isTokenRevoked(claims.jti))) throw new MfaError('NOT_AUTHENTICATED', 'no valid access token');
    return claims;
  }

  /** Logs out: the token's id is revoked until it expires, on every replica. */
  async logout(token: string): Promise<void> {
    const claims = await this.verifyAccessToken(token);
    await this.#repository.revokeToken(claims.jti, claims.exp);
    this.#log.info({ event: 'logout' }, 'logged out');
  }

  /** The wrong-PIN counter of an identity (operators, tests); undefined when not registered. */
  failures(identity: Uint8Array): Promise<number | undefined> {
    return this.#repository.failures(sha256(identity));
  }

  /** Stops loading and sweeping; later logins fail with `CLOSED`. Does not close the database (the caller owns it). */
  async close(): Promise<void> {
    this.#stop.abort();
    clearInterval(this.#pruner);
    await this.#starting?.catch(() => undefined);
  }
}

/**
 * `mfa_db_group_commit_writes{outcome="committed"|"failed"}`: writes per group commit (count =
 * commits, i.e. fsyncs on a durable database; sum = writes). Sum / count is how many writes share a sync.
 */
function groupCommitMetric(registry: Registry | undefined): ((group: { writes: number; committed: boolean }) => void) | undefined {
  if (registry === undefined) return undefined;
  const histogram = new Histogram({
    name: 'mfa_db_group_commit_writes',
    help: 'Database writes (session stores, session consumes with their attempt reservations, counter resets, ...) committed together in one transaction',
    labelNames: ['outcome'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [registry],
  });
  return ({ writes, committed }) => histogram.observe({ outcome: committed ? 'committed' : 'failed' }, writes);
}

/** SHA-256 of a base64url secret id of {@link SECRET_ID_BYTES}; undefined when it is not one. */
function secretIdHash(text: string): Uint8Array | undefined {
  try {
    const bytes = base64urlToBytes(text);
    return bytes.length === SECRET_ID_BYTES ? sha256(bytes) : undefined;
  } catch {
    return undefined;
  }
}
