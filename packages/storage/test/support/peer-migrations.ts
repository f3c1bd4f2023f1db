// The schema sqlite-peer.ts migrates to; the parent test re-applies it to show it is a no-op.
import type { Migration } from '@milagro/storage';

/** Each step also records itself in `effects`: a step applied twice would show up there. */
export const PEER_MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'counter and effects',
    statements: [
      'CREATE TABLE effects (version BIGINT NOT NULL)',
      'INSERT INTO effects (version) VALUES (1)',
      'CREATE TABLE counter (value BIGINT NOT NULL)',
      'INSERT INTO counter (value) VALUES (0)',
    ],
  },
  { version: 2, description: 'writes', statements: ['CREATE TABLE writes (peer TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (peer, seq))', 'INSERT INTO effects (version) VALUES (2)'] },
  {
    version: 3,
    description: 'crash tables',
    statements: [
      'CREATE TABLE a (id BIGINT PRIMARY KEY)',
      'CREATE TABLE b (id BIGINT PRIMARY KEY REFERENCES a (id), payload {{blob}} NOT NULL)',
      'CREATE TABLE held (id BIGINT PRIMARY KEY, payload {{blob}} NOT NULL)',
      'INSERT INTO effects (version) VALUES (3)',
    ],
  },
];
