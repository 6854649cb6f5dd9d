import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';

interface DynaliteServer {
  listen(port: number, host: string, callback: () => void): void;
  close(callback: () => void): void;
  address(): AddressInfo;
}

type Dynalite = (options: {
  createTableMs: number;
  deleteTableMs: number;
  updateTableMs: number;
}) => DynaliteServer;

const dynalite = createRequire(import.meta.url)('dynalite') as Dynalite;

export interface LocalDynamoDb {
  client: DynamoDBClient;
  /** Where it listens, for a child process's `AWS_ENDPOINT_URL_DYNAMODB`. */
  url: string;
  /** Creates a table shaped as the template's: partition key `pk`. */
  createTable(name: string): Promise<void>;
  close(): Promise<void>;
}

/** dynalite (an in-memory DynamoDB) on 127.0.0.1, with the real SDK client pointed at it. */
export const startDynalite = async (): Promise<LocalDynamoDb> => {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${server.address().port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'local-dynalite-secret' },
    maxAttempts: 1,
  });
  return {
    client,
    url: `http://127.0.0.1:${server.address().port}`,
    createTable: async (name) => {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      // dynalite answers CreateTable while the table is still CREATING, and refuses items until it is
      // ACTIVE (a moment later even with createTableMs 0): wait, as a deployment waits for its stack.
      for (let attempt = 0; attempt < 100; attempt++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === 'ACTIVE') return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error(`dynalite table ${name} did not become ACTIVE`);
    },
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(resolve));
    },
  };
};
