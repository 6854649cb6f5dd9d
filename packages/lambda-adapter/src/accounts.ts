import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentials, AwsCredentialsProvider } from '@riposte/actions';
import { MemberRoleError } from './errors.js';

/** Who the function is: read from the invoked function's ARN. */
export interface FunctionIdentity {
  accountId: string;
  partition: string;
  region: string;
}

const FUNCTION_ARN = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:/;

/** The function's own account, partition and region, or undefined when the ARN is not a Lambda ARN. */
export const functionIdentity = (invokedFunctionArn: unknown): FunctionIdentity | undefined => {
  if (typeof invokedFunctionArn !== 'string') return undefined;
  const match = FUNCTION_ARN.exec(invokedFunctionArn);
  return match ? { partition: match[1]!, region: match[2]!, accountId: match[3]! } : undefined;
};

export const memberRoleArn = (partition: string, accountId: string, roleName: string): string =>
  `arn:${partition}:iam::${accountId}:role/${roleName}`;

/**
 * `riposte-<finding id>`, in the characters STS allows and at most 64 of them, so CloudTrail in the
 * member account ties every call to the finding that caused it.
 */
export const roleSessionName = (findingId: string): string =>
  `riposte-${findingId}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);

/** The STS calls this module makes; tests pass a mocked client. */
export interface StsLike {
  send(command: AssumeRoleCommand): Promise<{
    Credentials?: {
      AccessKeyId?: string;
      SecretAccessKey?: string;
      SessionToken?: string;
      Expiration?: Date;
    };
  }>;
}

export interface MemberCredentialsOptions {
  /** The role's name (with its path, if any) in every member account. */
  roleName: string;
  /** Default: an STS client from the SDK's standard chain, in the function's region, created on first use. */
  sts?: StsLike;
  clock?: () => Date;
  /** How long before expiry cached credentials are replaced. Default 5 minutes. */
  refreshMarginMs?: number;
  /** Requested session length. Default one hour (the most a role chained from Lambda's own may get). */
  durationSeconds?: number;
}

export interface FindingAccount {
  accountId: string;
  partition: string;
  findingId: string;
}

/**
 * Credentials in member accounts through one role name, cached per account until close to expiry.
 */
export interface MemberCredentials {
  /** Credentials for the finding's account, assuming the role when none are cached or they near expiry. */
  get(account: FindingAccount): Promise<AwsCredentials>;
  /**
   * An SDK credentials provider for the account, over the same cache. When it has to assume the role
   * again, the session is named after the account's latest finding.
   */
  provider(account: Omit<FindingAccount, 'findingId'>): AwsCredentialsProvider;
}

// Errors that waiting does not fix: the role is missing, untrusted or denied.
const retryableSts = (error: unknown): boolean => {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const status = shape.$metadata?.httpStatusCode;
  return (
    shape.$retryable !== undefined ||
    status === 429 ||
    (status !== undefined && status >= 500) ||
    shape.name === 'Throttling' ||
    shape.name === 'ThrottlingException' ||
    shape.name === 'TimeoutError'
  );
};

export const createMemberCredentials = (options: MemberCredentialsOptions): MemberCredentials => {
  const clock = options.clock ?? (() => new Date());
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  const cache = new Map<string, Promise<AwsCredentials>>();
  let sts = options.sts;

  const assume = async ({ accountId, partition, findingId }: FindingAccount): Promise<AwsCredentials> => {
    const roleArn = memberRoleArn(partition, accountId, options.roleName);
    sts ??= new STSClient({});
    try {
      const { Credentials: credentials } = await sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: roleSessionName(findingId),
          DurationSeconds: options.durationSeconds ?? 3600,
        }),
      );
      if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
        throw new MemberRoleError(`STS AssumeRole ${roleArn} returned no credentials`, {
          retryable: true,
          details: { roleArn, accountId },
        });
      }
      return {
        accessKeyId: credentials.AccessKeyId,
        secretAccessKey: credentials.SecretAccessKey,
        ...(credentials.SessionToken ? { sessionToken: credentials.SessionToken } : {}),
        ...(credentials.Expiration ? { expiration: new Date(credentials.Expiration) } : {}),
      };
    } catch (error) {
      if (error instanceof MemberRoleError) throw error;
      const name = (error as { name?: unknown })?.name;
      throw new MemberRoleError(
        `cannot assume ${roleArn} for finding ${findingId}: ${typeof name === 'string' ? name : 'UnknownError'}`,
        { retryable: retryableSts(error), cause: error, details: { roleArn, accountId, errorCode: name } },
      );
    }
  };

  const fresh = (credentials: AwsCredentials): boolean =>
    credentials.expiration === undefined || credentials.expiration.getTime() - margin > clock().getTime();

  const latestFinding = new Map<string, string>();

  const get = async (account: FindingAccount): Promise<AwsCredentials> => {
    latestFinding.set(account.accountId, account.findingId);
    const cached = cache.get(account.accountId);
    if (cached) {
      try {
        const credentials = await cached;
        if (fresh(credentials)) return credentials;
      } catch {
        // A failed assumption is not cached: the next finding tries again.
      }
      if (cache.get(account.accountId) !== cached) return get(account);
    }
    const pending = assume(account);
    cache.set(account.accountId, pending);
    pending.catch(() => {
      if (cache.get(account.accountId) === pending) cache.delete(account.accountId);
    });
    return pending;
  };

  return {
    get,
    provider: (account) => () =>
      get({ ...account, findingId: latestFinding.get(account.accountId) ?? account.accountId }),
  };
};
