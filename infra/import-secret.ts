import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { SecretReference } from './secret-reference.js';

/** A secret the stack reads but does not own; grants use its complete ARN when one was given. */
export function importSecret(scope: Construct, id: string, reference: SecretReference): ISecret {
  return 'completeArn' in reference
    ? Secret.fromSecretCompleteArn(scope, id, reference.completeArn)
    : Secret.fromSecretNameV2(scope, id, reference.name);
}
