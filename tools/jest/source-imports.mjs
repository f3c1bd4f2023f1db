// Lets a child process that Node 24 runs straight from TypeScript (`--experimental-transform-types`)
// import the monorepo's sources the way Jest does: `@milagro/<pkg>` is packages/<pkg>/src/index.ts, and
// the sources' ESM-style `./x.js` specifiers name `./x.ts`. Load it with `node --import`.
import { registerHooks } from 'node:module';

const packages = new URL('../../packages/', import.meta.url);

registerHooks({
  resolve(specifier, context, nextResolve) {
    const workspace = /^@milagro\/([a-z0-9-]+)$/.exec(specifier);
    if (workspace !== null) return nextResolve(new URL(`${workspace[1]}/src/index.ts`, packages).href, context);
    // Subpath exports (`@milagro/keystore/pkcs11`) are src/<subpath>.ts or src/<subpath>/index.ts.
    const subpath = /^@milagro\/([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(specifier);
    if (subpath !== null) {
      try {
        return nextResolve(new URL(`${subpath[1]}/src/${subpath[2]}.ts`, packages).href, context);
      } catch {
        return nextResolve(new URL(`${subpath[1]}/src/${subpath[2]}/index.ts`, packages).href, context);
      }
    }
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      throw error;
    }
  },
});
