import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { settingsFromContext } from './settings.js';
import { ChatKitStack } from './stack.js';

const app = new App();
const settings = settingsFromContext((key) => app.node.tryGetContext(key));
new ChatKitStack(app, `ChatKit-${settings.stageName}`, settings, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
