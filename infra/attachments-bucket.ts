import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods, ObjectOwnership, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { UPLOAD_ALLOW_HEADERS } from '../shared/http/cors.js';
import { acceptFinding } from './nag.js';
import type { StackSettings } from './settings.js';

/** How long an upload that no message ever carried stays (functions/runtime/s3-attachments.ts: `pending/`). */
export const PENDING_UPLOAD_DAYS = 1;

/**
 * Where attachments live: private and encrypted, reachable only over TLS and through presigned
 * URLs; the browser uploads and views from the allowed origins. Uploads never sent in a message
 * expire under `pending/`; the rest go when their attachment or thread is deleted.
 */
export function attachmentsBucket(scope: Construct, settings: StackSettings, { chat, threadsDelete }: { chat: LambdaFunction; threadsDelete: LambdaFunction }): Bucket {
  const bucket = new Bucket(scope, 'Attachments', {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    encryption: BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    // Users' files: kept when the stack is deleted, unless the stage says otherwise.
    removalPolicy: RemovalPolicy.RETAIN,
    cors: [
      {
        allowedOrigins: settings.corsOrigins,
        allowedMethods: [HttpMethods.PUT, HttpMethods.POST, HttpMethods.GET],
        allowedHeaders: UPLOAD_ALLOW_HEADERS.map((h) => h.toLowerCase()),
        maxAge: 3600,
      },
    ],
    lifecycleRules: [
      { id: 'ExpireUnsentUploads', prefix: 'pending/', expiration: Duration.days(PENDING_UPLOAD_DAYS) },
      { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ],
  });
  const objects = [bucket.arnForObjects('pending/*'), bucket.arnForObjects('attached/*')];
  // The chat function signs uploads (its presigned URLs act with its rights), checks and moves
  // them, reads them for the model and deletes them; deleting a thread over REST deletes its objects.
  const grants: Array<[LambdaFunction, string[]]> = [
    [chat, ['s3:PutObject', 's3:GetObject', 's3:DeleteObject']],
    [threadsDelete, ['s3:DeleteObject']],
  ];
  for (const [fn, actions] of grants) {
    fn.addToRolePolicy(new PolicyStatement({ actions, resources: objects }));
    fn.addEnvironment('ATTACHMENTS_BUCKET', bucket.bucketName);
    acceptFinding(fn.role!.node.findChild('DefaultPolicy'), 'IAM5', "Objects under the bucket's two prefixes: keys are per user and attachment, made at run time.", [
      `Resource::<${logicalIdOf(bucket)}.Arn>/pending/*`,
      `Resource::<${logicalIdOf(bucket)}.Arn>/attached/*`,
    ]);
  }
  // The chat function may also list the bucket: only then does S3 answer a HEAD or GET of a
  // missing key with 404 rather than 403, and the S3 store takes only a 404 as "not there", so a
  // refused request (expired credentials, a skewed clock) fails loudly instead of reading as a file
  // never uploaded (functions/runtime/s3-attachments.ts). It reads every object anyway: listing
  // their keys shows it nothing more.
  chat.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
  acceptFinding(bucket, 'S1', "Access logs would record presigned URLs of users' files; object-level auditing, if needed, is CloudTrail data events.");
  return bucket;
}

function logicalIdOf(bucket: Bucket): string {
  return Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnBucket);
}
