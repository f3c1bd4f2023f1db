/** Tunables of the MFA service, with their defaults (docs/specs/mfa-api.md). */

/** Pending registrations expire after this many seconds. */
export const DEFAULT_REGISTRATION_TTL_SECONDS = 900;
/** Wrong activation codes a pending registration tolerates before it is dead. */
export const DEFAULT_MAX_ACTIVATION_ATTEMPTS = 5;
/** After activation, a device may fetch fresh grants for this long. */
export const DEFAULT_GRANT_WINDOW_SECONDS = 900;
/** Login sessions (pass 1 → pass 2) live this long. */
export const DEFAULT_SESSION_TTL_SECONDS = 30;
/** Wrong PINs (failed pass 2) before an identity is locked. */
export const DEFAULT_MAX_FAILURES = 5;
/** Access-token lifetime. */
export const DEFAULT_TOKEN_TTL_SECONDS = 300;
/** Requests per client address per window, on each login pass and on registration. */
export const DEFAULT_RATE_LIMIT_PER_IP = { limit: 60, windowSeconds: 60 } as const;
/** Login attempts per identity per window. */
export const DEFAULT_RATE_LIMIT_PER_IDENTITY = { limit: 20, windowSeconds: 60 } as const;

/** Random bytes of a session id and of a registration secret (256 bits). */
export const SECRET_ID_BYTES = 32;
/** Random bytes of an activation code, a registration reference and a token id (128 bits). */
export const CODE_BYTES = 16;
/** Longest user id (an e-mail address is at most 254 characters). */
export const MAX_USER_ID_LENGTH = 254;
export const MAX_DEVICE_NAME_LENGTH = 64;
