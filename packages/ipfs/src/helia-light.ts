import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NotStartedError } from '@libp2p/interface';
import { createLibp2p } from 'libp2p';
import { userAgent } from 'libp2p/user-agent';
import type { CreateLibp2pOptions, HeliaWithLibp2p } from '@helia/libp2p';
import type { Helia, HeliaInit, Router } from 'helia';
import type { Libp2p, ServiceMap } from '@libp2p/interface';

/** Helia's light composition: a node with no routers or block brokers, and libp2p exactly as configured. */
export interface HeliaLight {
  createHeliaLight(init: HeliaInit): Helia;
  withLibp2pLight<M extends ServiceMap>(helia: Helia, options: CreateLibp2pOptions<M>): HeliaWithLibp2p<M>;
}

let loading: Promise<HeliaLight> | undefined;

/**
 * Loads Helia's light composition without the `helia` and `@helia/libp2p` entry points. Both
 * statically import the default public-network composition (DHT, AutoNAT, UPnP, relay, WebRTC,
 * auto-TLS, delegated routing, gateways: about 1,000 modules, half of this package's import time)
 * even when only the light one is used. The three files needed are not in those packages' `exports`,
 * so they are loaded by path; should a release move them, the public entry points serve instead
 * (slower import, same node).
 */
export function loadHeliaLight(): Promise<HeliaLight> {
  loading ??= loadFromFiles().catch(loadFromEntryPoints);
  return loading;
}

interface HeliaClassModule {
  Helia: new (init: HeliaInit & { name: string; version: string }) => Helia;
}
interface HeliaVersionModule {
  name: string;
  version: string;
}
interface Libp2pRoutingModule {
  libp2pRouting(libp2p: Libp2p): Router;
}

async function loadFromFiles(): Promise<HeliaLight> {
  const [{ Helia }, info, { libp2pRouting }] = await Promise.all([
    import(besideEntryPoint('helia', 'helia.js')) as Promise<HeliaClassModule>,
    import(besideEntryPoint('helia', 'version.js')) as Promise<HeliaVersionModule>,
    import(besideEntryPoint('@helia/libp2p', 'routing.js')) as Promise<Libp2pRoutingModule>,
  ]);
  if (typeof Helia !== 'function' || typeof info.version !== 'string' || typeof libp2pRouting !== 'function') {
    throw new Error('unexpected Helia package layout');
  }
  return {
    createHeliaLight: (init) => new Helia({ name: info.name, version: info.version, ...init }),
    withLibp2pLight: (helia, options) => withLibp2p(helia, options, libp2pRouting),
  };
}

async function loadFromEntryPoints(): Promise<HeliaLight> {
  const [{ createHeliaLight }, { withLibp2pLight }] = await Promise.all([import('helia'), import('@helia/libp2p')]);
  return { createHeliaLight, withLibp2pLight };
}

/** URL of `file` in the directory of `pkg`'s main module. */
function besideEntryPoint(pkg: string, file: string): string {
  const entryPoint = createRequire(import.meta.url).resolve(pkg);
  return pathToFileURL(join(dirname(entryPoint), file)).href;
}

/**
 * `@helia/libp2p`'s `withLibp2pLight` (2.1), less what only matters with routers other than
 * libp2p's (copying the peers they find into the peer store): the embedded node has none.
 */
function withLibp2p<M extends ServiceMap>(
  helia: Helia,
  options: CreateLibp2pOptions<M>,
  libp2pRouting: (libp2p: Libp2p) => Router,
): HeliaWithLibp2p<M> {
  let libp2p: Libp2p<M> | undefined;
  Object.defineProperty(helia, 'libp2p', {
    configurable: true,
    enumerable: true,
    get(): Libp2p<M> {
      if (libp2p === undefined) throw new NotStartedError();
      return libp2p;
    },
  });
  helia.addMixin({
    name: 'libp2p',
    start: async (node: Helia) => {
      libp2p ??= await createLibp2p<M>({
        ...options,
        datastore: options.datastore ?? node.datastore,
        nodeInfo: {
          name: node.info.name,
          version: node.info.version,
          userAgent: `${node.info.name}/${node.info.version} ${userAgent()}`,
          ...options.nodeInfo,
        },
      });
      if (!node.hasRouter('libp2p-router')) node.addRouter(libp2pRouting(libp2p));
      await libp2p.start();
    },
    stop: async () => {
      await libp2p?.stop();
    },
  });
  return helia as HeliaWithLibp2p<M>;
}
