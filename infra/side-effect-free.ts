import type { Plugin } from 'esbuild';

/**
 * Lets esbuild leave out a module when nothing is used from it. A package without
 * `"sideEffects": false` keeps every module it imports, even one of which nothing is used, and
 * what that module imports: `@openai/agents-core` imports its MCP server classes, and through them
 * the MCP client (370 KiB), which our agent does not use but every first turn would compile.
 * An agent that uses an MCP server imports the class, and the build keeps it.
 *
 * `modules`: an import path as the importer writes it, and the package the importer is in.
 */
export function sideEffectFree(modules: Array<{ importPath: RegExp; inPackage: string }>): Plugin {
  return {
    name: 'side-effect-free',
    setup(build) {
      for (const { importPath, inPackage } of modules) {
        build.onResolve({ filter: importPath }, async ({ path, importer, resolveDir, kind, pluginData }) => {
          if (pluginData === 'side-effect-free' || !importer.includes(`/node_modules/${inPackage}/`)) return undefined;
          const resolved = await build.resolve(path, { importer, resolveDir, kind, pluginData: 'side-effect-free' });
          return resolved.errors.length ? undefined : { path: resolved.path, namespace: resolved.namespace, sideEffects: false };
        });
      }
    },
  };
}
