/**
 * The MFA client: what a browser page or a Node program calls to register a device, activate it,
 * set a PIN and log in against the ZKP MFA service (docs/specs/mfa-client.md). The PIN is never
 * stored or sent; the client secret exists only in memory between activation and `setPin`; the
 * store keeps the M-Pin token CS − PIN·H(ID) and public metadata.
 */
import {
  XWingDecapsulationKey,
  base64urlToBytes,
  bytesToBase64url,
  generateXWingKeyPair,
  isCryptoError,
  sha256,
  type Bls12381Backend,
} from '@milagro/crypto';
import { clientPass1, clientPass2, combineClientSecret, createSuite, extractToken, factorScalar, type MpinSuite } from '@milagro/mpin';
import { MfaClientError } from './client-errors.js';
import { checkCredential, realmInfo, type CredentialStore, type DeviceCredential, type PendingRegistration, type RealmInfo, type StoredCredential } from './credential-store.js';
import { HttpFailure, failureError, numberField, sendJson, textField } from './json-http.js';
import { collectShares, completeShares, type HeldShare, type ShareFailure, type ShareGrant } from './share-collection.js';

/** Options of {@link MfaClient}. */
export interface MfaClientOptions {
  /** The MFA service's base URL, e.g. `https://login.acme.example`. */
  readonly baseUrl: string;
  /** Where the device's credential lives. */
  readonly store: CredentialStore;
  /** `globalThis.fetch` by default. */
  readonly fetch?: typeof fetch;
  /** BLS12-381 backend for the M-Pin maths; noble (pure JS, audited) by default. */
  readonly backend?: Bls12381Backend;
  /** Per D-TA request timeout in milliseconds; 10,000 by default. */
  readonly shareTimeoutMs?: number;
}

/** The answer to {@link MfaClient.register}. */
export interface RegistrationStarted {
  /** Public name of the registration (what an operator approves). */
  readonly reference: string;
  /** `code`: an activation code arrives by another channel; `approval`: an operator approves. */
  readonly activation: 'code' | 'approval';
  /** Unix seconds. */
  readonly expiresAt: number;
}

/** The answer to {@link MfaClient.activate}: the device now waits for a PIN of `pinDigits` digits. */
export interface ActivationResult {
  readonly userId: string;
  readonly realm: RealmInfo;
  /** How many D-TAs issued a share (`threshold` of them). */
  readonly shares: number;
}

/** The answer to {@link MfaClient.login}. */
export interface LoginResult {
  /** A JWT (EdDSA) for the relying party; verify it with the service's JWKS. */
  readonly accessToken: string;
  /** Seconds. */
  readonly expiresIn: number;
  readonly userId: string;
}

/** What the device holds, without any secret. */
export type ClientStatus =
  | { readonly state: 'unregistered' }
  | { readonly state: 'pending'; readonly userId: string; readonly reference: string; readonly activation: 'code' | 'approval'; readonly expiresAt: number; readonly device?: string }
  | { readonly state: 'awaiting-pin'; readonly userId: string; readonly pinDigits: number; readonly device?: string }
  | { readonly state: 'active'; readonly userId: string; readonly deviceName: string; readonly pinDigits: number };

const DEFAULT_SHARE_TIMEOUT_MS = 10_000;

/** Register a device, activate it, set a PIN, log in and out. One instance per credential store. */
export class MfaClient {
  readonly #baseUrl: string;
  readonly #store: CredentialStore;
  readonly #fetch: typeof fetch;
  readonly #backend: Bls12381Backend | undefined;
  readonly #shareTimeoutMs: number;
  readonly #suites = new Map<string, MpinSuite>();
  /** The combined client secret between activation and setPin, by identity (memory only). */
  readonly #clientSecrets = new Map<string, Uint8Array>();

  constructor(options: MfaClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#store = options.store;
    const fetchFn = options.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch;
    if (fetchFn === undefined) throw new TypeError('MfaClient needs fetch (pass options.fetch)');
    this.#fetch = options.fetch ?? fetchFn.bind(globalThis);
    this.#backend = options.backend;
    this.#shareTimeoutMs = options.shareTimeoutMs ?? DEFAULT_SHARE_TIMEOUT_MS;
  }

  /** What the store holds (no secrets). */
  async status(): Promise<ClientStatus> {
    const stored = await this.#load();
    const device = stored?.device;
    const registration = stored?.registration;
    const also = device === undefined ? {} : { device: device.userId };
    if (registration?.identity !== undefined && registration.realm !== undefined) {
      return { state: 'awaiting-pin', userId: registration.userId, pinDigits: registration.realm.pinDigits, ...also };
    }
    if (registration !== undefined) {
      return { state: 'pending', userId: registration.userId, reference: registration.reference, activation: registration.activation, expiresAt: registration.expiresAt, ...also };
    }
    if (device !== undefined) return { state: 'active', userId: device.userId, deviceName: device.deviceName, pinDigits: device.realm.pinDigits };
    return { state: 'unregistered' };
  }

  /**
   * Asks the service to register this device for `userId`. A device that is already active keeps
   * logging in until the new registration has its PIN (then the service cuts the old one off).
   * @throws MfaClientError `INVALID_REQUEST`, `RATE_LIMITED`, `UNAVAILABLE`, `SERVER_ERROR`.
   */
  async register(request: { userId: string; deviceName: string }): Promise<RegistrationStarted> {
    const route = 'POST /v1/registrations';
    const body = await this.#call(route, { method: 'POST', url: `${this.#baseUrl}/v1/registrations`, body: { userId: request.userId, deviceName: request.deviceName } }, 'SERVER_ERROR');
    const activation = body.activation;
    if (activation !== 'code' && activation !== 'approval') throw new MfaClientError('SERVER_ERROR', `${route}: unknown activation kind`);
    const registration: PendingRegistration = {
      userId: request.userId,
      deviceName: request.deviceName,
      secret: textField(body, 'registration', route),
      reference: textField(body, 'reference', route),
      expiresAt: numberField(body, 'expiresAt', route),
      activation,
    };
    const stored = await this.#load();
    await this.#save({ v: 1, ...(stored?.device === undefined ? {} : { device: stored.device }), registration });
    return { reference: registration.reference, activation, expiresAt: registration.expiresAt };
  }

  /**
   * Activates the pending registration (with the code from e-mail or the relying party; without one
   * after an operator's approval), then fetches and combines `threshold` client-secret shares from
   * the realm's D-TAs. Call {@link setPin} next. Calling it again after a failure resumes: an
   * activated registration fetches fresh grants instead.
   * @throws MfaClientError `NOT_REGISTERED`, `ACTIVATION_FAILED`, `NOT_ENOUGH_SHARES`, `RATE_LIMITED`, `UNAVAILABLE`, `SERVER_ERROR`.
   */
  async activate(request: { code?: string } = {}): Promise<ActivationResult> {
    const stored = await this.#load();
    let registration = stored?.registration;
    if (stored === undefined || registration === undefined) throw new MfaClientError('NOT_REGISTERED', 'no registration to activate: call register first');
    let grants: Grants;
    if (registration.activated === true) {
      grants = await this.#reissueGrants(registration);
    } else {
      try {
        grants = await this.#grants('POST /v1/activations', '/v1/activations', { registration: registration.secret, ...(request.code === undefined ? {} : { code: request.code }) });
      } catch (error) {
        // Activated, but the grant issuer failed: resume with POST /v1/grants next time.
        if (error instanceof MfaClientError && error.code === 'UNAVAILABLE') await this.#save({ ...stored, registration: { ...registration, activated: true } });
        throw error;
      }
    }
    registration = { ...registration, activated: true, identity: bytesToBase64url(grants.identity), realm: grants.realm };
    await this.#save({ ...stored, registration });
    const clientSecret = await this.#clientSecret(registration, grants);
    this.#clientSecrets.set(registration.identity!, clientSecret);
    return { userId: registration.userId, realm: grants.realm, shares: grants.realm.threshold };
  }

  /**
   * Chooses the PIN: stores the token CS − PIN·H(ID) and forgets the client secret and the
   * registration secret. From now on only this device with this PIN logs in as the user.
   * @throws MfaClientError `INVALID_PIN`, `NOT_REGISTERED` (not activated), and the errors of {@link activate} when the
   *   client secret has to be fetched again (the page was reloaded after activation).
   */
  async setPin(pin: string): Promise<void> {
    const stored = await this.#load();
    const registration = stored?.registration;
    if (registration?.identity === undefined || registration.realm === undefined) {
      throw new MfaClientError('NOT_REGISTERED', 'no activated registration: call register and activate first');
    }
    const suite = await this.#suite(registration.realm);
    checkPin(suite, pin);
    let clientSecret = this.#clientSecrets.get(registration.identity);
    if (clientSecret === undefined) clientSecret = await this.#clientSecret(registration, await this.#reissueGrants(registration));
    const identity = base64urlToBytes(registration.identity);
    const token = extractToken(suite, { identity, clientSecret, factors: [{ pin }] });
    const device: DeviceCredential = {
      userId: registration.userId,
      deviceName: registration.deviceName,
      identity: registration.identity,
      token: bytesToBase64url(token),
      realm: registration.realm,
      activatedAt: Math.floor(Date.now() / 1000),
    };
    await this.#save({ v: 1, device });
    this.#clientSecrets.delete(registration.identity);
    clientSecret.fill(0);
  }

  /**
   * Logs in with the PIN (two passes; the PIN never leaves the device).
   * @throws MfaClientError `INVALID_PIN`, `NOT_REGISTERED`, `AUTHENTICATION_FAILED` (wrong PIN, replaced or locked device),
   *   `RATE_LIMITED`, `UNAVAILABLE`, `SERVER_ERROR`.
   */
  async login(pin: string): Promise<LoginResult> {
    const device = (await this.#load())?.device;
    if (device === undefined) throw new MfaClientError('NOT_REGISTERED', 'no device credential: register, activate and set a PIN first');
    const suite = await this.#suite(device.realm);
    checkPin(suite, pin);
    const identity = base64urlToBytes(device.identity);
    let pass1: ReturnType<typeof clientPass1>;
    try {
      pass1 = clientPass1(suite, { identity, token: base64urlToBytes(device.token), factors: [{ pin }] });
    } catch (cause) {
      throw new MfaClientError('CREDENTIAL_UNREADABLE', 'the stored token is not a valid point', { cause });
    }
    const challenge = await this.#call(
      'POST /v1/login/pass1',
      { method: 'POST', url: `${this.#baseUrl}/v1/login/pass1`, body: { identity: device.identity, u: bytesToBase64url(pass1.message.u) } },
      'AUTHENTICATION_FAILED',
    );
    let v: Uint8Array;
    try {
      v = clientPass2(pass1.state, { y: base64urlToBytes(textField(challenge, 'y', 'POST /v1/login/pass1')) }).v;
    } catch (cause) {
      if (cause instanceof MfaClientError) throw cause;
      throw new MfaClientError('SERVER_ERROR', 'POST /v1/login/pass1: the challenge is not a scalar', { cause });
    }
    const session = textField(challenge, 'session', 'POST /v1/login/pass1');
    const route = 'POST /v1/login/pass2';
    const result = await this.#call(route, { method: 'POST', url: `${this.#baseUrl}/v1/login/pass2`, body: { session, v: bytesToBase64url(v) } }, 'AUTHENTICATION_FAILED');
    return { accessToken: textField(result, 'accessToken', route), expiresIn: numberField(result, 'expiresIn', route), userId: textField(result, 'userId', route) };
  }

  /**
   * The session an access token stands for.
   * @throws MfaClientError `NOT_AUTHENTICATED` for a bad, expired or logged-out token.
   */
  async session(accessToken: string): Promise<{ userId: string; expiresAt: number }> {
    const route = 'GET /v1/session';
    const body = await this.#call(route, { method: 'GET', url: `${this.#baseUrl}/v1/session`, bearer: accessToken }, 'NOT_AUTHENTICATED');
    return { userId: textField(body, 'userId', route), expiresAt: numberField(body, 'expiresAt', route) };
  }

  /**
   * Ends the session: the service refuses the token from now on (relying parties that verify it
   * offline accept it until it expires).
   * @throws MfaClientError `NOT_AUTHENTICATED` for a token the service does not accept.
   */
  async logout(accessToken: string): Promise<void> {
    await this.#call('POST /v1/logout', { method: 'POST', url: `${this.#baseUrl}/v1/logout`, body: {}, bearer: accessToken }, 'NOT_AUTHENTICATED');
  }

  /** Removes the device's credential from the store (the service still knows the registration until it is replaced). */
  async forget(): Promise<void> {
    this.#clientSecrets.clear();
    await this.#store.clear();
  }

  async #call(route: string, request: Parameters<typeof sendJson>[1], refused: 'AUTHENTICATION_FAILED' | 'NOT_AUTHENTICATED' | 'ACTIVATION_FAILED' | 'SERVER_ERROR'): Promise<Record<string, unknown>> {
    const answer = await sendJson(this.#fetch, request);
    if (answer instanceof HttpFailure) throw failureError(route, answer, refused);
    return answer;
  }

  async #grants(route: string, path: string, body: Record<string, string>): Promise<Grants> {
    const answer = await this.#call(route, { method: 'POST', url: `${this.#baseUrl}${path}`, body }, 'ACTIVATION_FAILED');
    return parseGrants(route, answer);
  }

  #reissueGrants(registration: PendingRegistration): Promise<Grants> {
    return this.#grants('POST /v1/grants', '/v1/grants', { registration: registration.secret });
  }

  /** Shares from `threshold` D-TAs, asking for fresh grants once when the first ones do not suffice. */
  async #clientSecret(registration: PendingRegistration, first: Grants): Promise<Uint8Array> {
    const suite = await this.#suite(first.realm);
    const keyPair = generateXWingKeyPair();
    const recipient = XWingDecapsulationKey.fromSecretKey(keyPair.secretKey);
    keyPair.secretKey.fill(0);
    const context = {
      fetch: this.#fetch,
      realm: first.realm,
      identity: first.identity,
      identityHash: sha256(first.identity),
      recipient,
      checkShare: (share: Uint8Array) => void suite.decodeG1(share),
      timeoutMs: this.#shareTimeoutMs,
    };
    const held = new Map<string, HeldShare>();
    const failures: ShareFailure[] = [];
    await collectShares(context, first.grants, held, failures);
    if (completeShares(held, first.realm.threshold) === undefined) {
      // Fresh grants (the first ones are single-use or may have expired); keep only the newest epoch's shares.
      const newest = Math.max(...[...held.values()].map((s) => s.epoch));
      for (const [dta, share] of held) if (share.epoch !== newest) held.delete(dta);
      const again = await this.#reissueGrants(registration);
      if (bytesToBase64url(again.identity) !== bytesToBase64url(first.identity)) throw new MfaClientError('SERVER_ERROR', 'POST /v1/grants: another identity');
      await collectShares({ ...context, realm: again.realm }, again.grants, held, failures);
    }
    const shares = completeShares(held, first.realm.threshold);
    if (shares === undefined) {
      const detail = failures.map((f) => `${f.dta}: ${f.reason}`).join('; ');
      throw new MfaClientError('NOT_ENOUGH_SHARES', `${held.size} of the ${first.realm.threshold} shares needed (${detail})`);
    }
    try {
      return combineClientSecret(suite, shares);
    } catch (cause) {
      throw new MfaClientError('NOT_ENOUGH_SHARES', 'the shares do not combine', { cause });
    }
  }

  async #suite(realm: RealmInfo): Promise<MpinSuite> {
    const key = `${realm.suite}/${realm.pinDigits}`;
    let suite = this.#suites.get(key);
    if (suite === undefined) {
      try {
        suite = createSuite({ suite: realm.suite, pinDigits: realm.pinDigits, ...(this.#backend === undefined ? {} : { backend: this.#backend }) });
      } catch (cause) {
        throw new MfaClientError('SERVER_ERROR', 'the realm names an M-Pin suite this client cannot use', { cause });
      }
      this.#suites.set(key, suite);
    }
    return suite;
  }

  async #load(): Promise<StoredCredential | undefined> {
    const stored = await this.#store.load();
    return stored === undefined ? undefined : checkCredential(stored);
  }

  #save(credential: StoredCredential): Promise<void> {
    return this.#store.save(credential);
  }
}

/** An activation or grant re-issue answer. */
interface Grants {
  readonly userId: string;
  readonly identity: Uint8Array;
  readonly realm: RealmInfo;
  readonly grants: readonly ShareGrant[];
}

function parseGrants(route: string, body: Record<string, unknown>): Grants {
  const realm = realmInfo(body.realm);
  if (realm === undefined) throw new MfaClientError('SERVER_ERROR', `${route}: the answer has no usable realm`);
  const grants = Array.isArray(body.grants) ? body.grants : [];
  const parsed: ShareGrant[] = [];
  for (const grant of grants as unknown[]) {
    const g = grant as Partial<Record<'dta' | 'url' | 'token', unknown>>;
    if (typeof g.dta === 'string' && typeof g.url === 'string' && typeof g.token === 'string') parsed.push({ dta: g.dta, url: g.url, token: g.token });
  }
  let identity: Uint8Array;
  try {
    identity = base64urlToBytes(textField(body, 'identity', route));
  } catch (cause) {
    if (cause instanceof MfaClientError) throw cause;
    throw new MfaClientError('SERVER_ERROR', `${route}: the identity is not base64url`, { cause });
  }
  return { userId: textField(body, 'userId', route), identity, realm, grants: parsed };
}

/** @throws MfaClientError `INVALID_PIN` unless `pin` is exactly the realm's number of digits. */
function checkPin(suite: MpinSuite, pin: string): void {
  try {
    if (typeof pin !== 'string') throw new TypeError('PIN must be a string');
    factorScalar(suite, { pin });
  } catch (cause) {
    if (isCryptoError(cause) || cause instanceof TypeError) throw new MfaClientError('INVALID_PIN', `the PIN must be exactly ${suite.pinDigits} decimal digits`);
    throw cause;
  }
}
