import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SettingError } from './context.js';
import { buildFunctions } from './function-build.js';
import { ROOT } from './functions.js';
import { settingsFromContext } from './settings.js';
import { ChatKitStack } from './stack.js';

// The functions are built first (our own esbuild build: code splitting, plugins), then staged as
// assets by synth, which copies them into the cloud assembly; the build directory goes after that.
// It sits at a fixed depth in the project, so the maps' source paths (and so the assets' hashes)
// are the same on every machine.
const app = new App();
const settings = settingsOrExit(app);
mkdirSync(join(ROOT, '.build'), { recursive: true });
const buildDir = mkdtempSync(join(ROOT, '.build', 'functions-'));
try {
  const built = await buildFunctions(buildDir);
  const code = Object.fromEntries(Object.entries(built).map(([name, { dir }]) => [name, dir])) as Record<keyof typeof built, string>;
  new ChatKitStack(app, `ChatKit-${settings.stageName}`, settings, code, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  app.synth();
} finally {
  rmSync(buildDir, { recursive: true, force: true });
}

/** The stage's settings; a setting that is not valid ends synth here, named in one line, before any build. */
function settingsOrExit(app: App) {
  try {
    return settingsFromContext((key) => app.node.tryGetContext(key));
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
