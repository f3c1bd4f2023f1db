/**
 * @packageDocumentation
 * `@milagro/mpin/server-only`: functions that must never run in, or send results to, a client.
 */
export { pinErrorDistance } from './pin-error-distance.js';
