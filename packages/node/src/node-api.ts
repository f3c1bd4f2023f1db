import { HttpApi } from '@milagro/http';
import { z } from 'zod';
import type { NodeInfrastructure } from './bootstrap.js';

/** What `GET /v1/node` says about a node: its identity (operators name it in realms), current head, and IPFS addresses. */
export async function describeNode(node: NodeInfrastructure): Promise<{ identity: string; head: string; peerId: string; addresses: string[] }> {
  return { identity: node.identity.id.toString(), head: node.identity.head.toString(), peerId: node.ipfs.peerId, addresses: await node.ipfs.multiaddrs() };
}

/** `GET /v1/node` for a node without the D-TA role (the D-TA's API has its own, with the same answer). */
export function createNodeApi(node: NodeInfrastructure): HttpApi {
  const api = new HttpApi({ tags: ['node'] });
  api.route({
    method: 'GET',
    path: '/v1/node',
    operationId: 'getNode',
    summary: "This node's identity and network addresses",
    responses: { 200: { description: 'the node', schema: z.object({ identity: z.string(), head: z.string(), peerId: z.string(), addresses: z.array(z.string()) }) } },
    handler: async () => ({ status: 200, body: await describeNode(node) }),
  });
  return api;
}
