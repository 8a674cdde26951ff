import { NagSuppressions, type NagPackSuppressionAppliesTo } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * Accepts one AwsSolutions finding on one resource (an L2 construct means its L1), with the
 * reason. Never stack-wide: a suppression must not hide findings on resources added later.
 */
export function acceptFinding(resource: IConstruct, rule: string, reason: string, appliesTo?: NagPackSuppressionAppliesTo[]): void {
  NagSuppressions.addResourceSuppressions(resource, [{ id: `AwsSolutions-${rule}`, reason, ...(appliesTo ? { appliesTo } : {}) }]);
}

export const BASIC_EXECUTION_ROLE = 'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';
