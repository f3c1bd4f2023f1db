import type { Bls12381Backend } from '@milagro/crypto';
import type { HttpApi, ReadinessCheck } from '@milagro/http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { NodeInbox } from './node-inbox.js';

/** A role running on a node: what it serves over HTTP, when it is ready, and how it stops. */
export interface RoleRuntime {
  /** Route groups to mount on the node's HTTP server. */
  readonly apis: readonly HttpApi[];
  /** Named readiness checks for `/readyz`. */
  readonly ready: Readonly<Record<string, ReadinessCheck>>;
  /** Stops the role's services (not the node: the caller closes that afterwards). */
  close(): Promise<void>;
}

/** What a role gets from the node besides its infrastructure. */
export interface RoleContext {
  /** Structured logger; roles log events and codes, never secrets. */
  readonly logger: Logger;
  /** The node's BLS12-381 backend (one per process: `createCurveBackend(config.curveBackend)`). */
  readonly backend: Bls12381Backend;
  /** The node's one inbox reader; a role claims its message types before `inbox.start()`. */
  readonly inbox: NodeInbox;
  /** Prometheus registry the HTTP server serves at `/metrics`; roles add their own metrics to it. */
  readonly registry: Registry;
}
