// One Jest run over every package and app. Sources are tested directly (no build needed):
// `@milagro/<pkg>` maps to `packages/<pkg>/src/index.ts`.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  testMatch: ['<rootDir>/{packages,apps,tools}/**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/fixtures/'],
  moduleNameMapper: {
    '^@milagro/([a-z0-9-]+)$': '<rootDir>/packages/$1/src/index.ts',
    // Subpath exports (`@milagro/keystore/pkcs11`, `@milagro/mpin/server-only`) map to src/<subpath>.
    '^@milagro/([a-z0-9-]+)/([a-z0-9-]+)$': '<rootDir>/packages/$1/src/$2',
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // blockstore-fs 4 and datastore-fs 12 map `require` (their "module-sync" export) to a src/index.js
    // they do not ship; Node's `import` resolves their dist/, so point Jest's CommonJS loader there too.
    '^(blockstore-fs|datastore-fs)$': '<rootDir>/node_modules/$1/dist/src/index.js',
  },
  reporters: ['default', '<rootDir>/tools/jest/summary-reporter.cjs'],
  testTimeout: 120_000,
  // CI machines have 2 cores; Jest's default (cores - 1) would run one file at a time.
  maxWorkers: 2,
};
