import type { Plugin } from 'esbuild';
import { dirname, join } from 'node:path';

/**
 * zod re-exports every locale it has (`z.locales`, ~260 KiB minified) through a relative import
 * of `../locales/index.js` inside its own files, so `alias` cannot drop them: this plugin answers
 * that import with English alone, the locale zod sets by default. `z.locales.en` still exists;
 * any other `z.locales.xx` is undefined (nothing here configures another language).
 */
export const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, ({ importer }) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(importer)) return undefined;
      return { path: join(dirname(importer), '..', 'locales', 'index.js'), namespace: 'zod-english-only' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, ({ path }) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(path), 'en.js'))};`,
      resolveDir: dirname(path),
      loader: 'js',
    }));
  },
};
