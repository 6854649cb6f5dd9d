import type * as DynamoDb from '@aws-sdk/client-dynamodb';
import type * as Organizations from '@aws-sdk/client-organizations';
import type * as S3 from '@aws-sdk/client-s3';
import type * as Sns from '@aws-sdk/client-sns';

/**
 * The SDK packages the adapter calls itself (the idempotency and history tables, the S3 copy of the
 * history, the forgery alarm's topic, the organization lookup), each imported by the first call that
 * needs it: a container configured without a table, a bucket or an organization never loads that
 * client, and none of them is loaded at init. The bundle keeps each in a chunk of its own.
 */
export const dynamoDbSdk = (): Promise<typeof DynamoDb> => import('@aws-sdk/client-dynamodb');
export const s3Sdk = (): Promise<typeof S3> => import('@aws-sdk/client-s3');
export const snsSdk = (): Promise<typeof Sns> => import('@aws-sdk/client-sns');
export const organizationsSdk = (): Promise<typeof Organizations> => import('@aws-sdk/client-organizations');

/** A client that `create` makes, with the SDK module it needs, when its first command is sent. */
export const onFirstCall = <Command>(
  create: () => Promise<{ send(command: Command): Promise<unknown> }>,
): { send(command: Command): Promise<unknown> } => {
  let client: ReturnType<typeof create> | undefined;
  return {
    send: async (command) => {
      client ??= create();
      return (await client).send(command);
    },
  };
};
