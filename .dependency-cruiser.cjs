// The layer rule (docs/adr/0001-architecture.md): a package imports only from lower layers, never
// from its own layer's siblings, a higher layer or an app. Rules are generated from
// tools/boundaries/layers.json so adding a package is one line there.
const layers = require('./tools/boundaries/layers.json');

const names = Object.keys(layers).filter((k) => !k.startsWith('$'));
const alt = (list) => `(${list.join('|')})`;

const layerRules = names.flatMap((pkg) => {
  const forbidden = names.filter((other) => other !== pkg && layers[other] >= layers[pkg]);
  if (forbidden.length === 0) return [];
  return [
    {
      name: `layer-${pkg}`,
      comment: `@milagro/${pkg} (layer ${layers[pkg]}) may import only packages of lower layers`,
      severity: 'error',
      from: { path: `(^|/)packages/${pkg}/` },
      to: { path: `(^|/)packages/${alt(forbidden)}/` },
    },
  ];
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-package-imports-app',
      comment: 'libraries never depend on apps; apps compose libraries',
      severity: 'error',
      from: { path: '(^|/)packages/' },
      to: { path: '(^|/)apps/' },
    },
    {
      name: 'no-unlisted-package',
      comment: 'every package must have a layer in tools/boundaries/layers.json',
      severity: 'error',
      from: { path: `(^|/)packages/(?!${alt(names)}/)` },
      to: {},
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
