import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentials, AwsCredentialsProvider } from '@riposte/actions';
import { IdentityError, MemberRoleError } from './errors.js';

/** Who the function runs as, asked of STS at initialisation. */
export interface FunctionIdentity {
  accountId: string;
  partition: string;
  /** The caller ARN STS reports (`arn:aws:sts::1:assumed-role/NAME/SESSION` for a Lambda). */
  arn: string;
  /** The role behind an assumed-role identity, as an IAM role ARN without its path. */
  roleArn?: string;
}

const CALLER_ARN = /^arn:(aws[a-z-]*):(?:sts|iam)::(\d{12}):(.+)$/;

/**
 * Asks STS who the function is. Without an answer the function cannot tell its own account (and role)
 * from a finding's, so it does not start: Lambda retries the initialisation.
 */
export const learnIdentity = async (sts: StsLike): Promise<FunctionIdentity> => {
  let output: { Account?: string; Arn?: string };
  try {
    output = await sts.send(new GetCallerIdentityCommand({}));
  } catch (error) {
    const name = (error as { name?: unknown })?.name;
    throw new IdentityError(
      `STS GetCallerIdentity failed (${typeof name === 'string' ? name : 'UnknownError'}): the function cannot tell its own account and role, so it does not start`,
      error,
    );
  }
  const match = CALLER_ARN.exec(output.Arn ?? '');
  if (!match || match[2] !== output.Account) {
    throw new IdentityError(
      `STS GetCallerIdentity answered an unreadable identity ${JSON.stringify(output.Arn)}`,
    );
  }
  const [, partition, accountId, resource] = match as unknown as [string, string, string, string];
  const assumed = /^assumed-role\/([\w+=,.@-]{1,64})\//.exec(resource);
  return {
    accountId,
    partition,
    arn: output.Arn!,
    ...(assumed ? { roleArn: `arn:${partition}:iam::${accountId}:role/${assumed[1]}` } : {}),
  };
};

/** Whether the function may act in an account; the check may ask AWS Organizations. */
export type AccountDecision = { allowed: true } | { allowed: false; reason: string; retryable: boolean };

export interface AccountPolicyOptions {
  own: FunctionIdentity;
  /** `RIPOSTE_ACCOUNTS`. */
  accounts: readonly string[];
  /** `RIPOSTE_ORGANIZATION_ID`. */
  organizationId?: string;
  /** The organization an account belongs to (Organizations DescribeAccount's account ARN names it). */
  organizationOf?: (accountId: string) => Promise<string | undefined>;
  clock?: () => Date;
}

const ACCOUNT_ID = /^\d{12}$/;
// Organization membership changes rarely; an answer is kept this long per container.
const MEMBERSHIP_TTL_MS = 15 * 60_000;

/**
 * Where the function may act: its own account always; other accounts only when listed or in the
 * configured organization. Unknown membership is a refusal, never a yes.
 */
export const createAccountPolicy = (options: AccountPolicyOptions) => {
  const clock = options.clock ?? (() => new Date());
  const listed = new Set(options.accounts);
  const open = listed.size === 0 && options.organizationId === undefined;
  const memberships = new Map<string, { organization: string | undefined; at: number }>();

  const check = async (accountId: string): Promise<AccountDecision> => {
    if (!ACCOUNT_ID.test(accountId)) {
      return {
        allowed: false,
        reason: `${JSON.stringify(accountId.slice(0, 40))} is not an account id`,
        retryable: false,
      };
    }
    if (accountId === options.own.accountId) return { allowed: true };
    if (open) {
      return {
        allowed: false,
        reason: `account ${accountId} is not this function's (${options.own.accountId}); set RIPOSTE_ACCOUNTS or RIPOSTE_ORGANIZATION_ID (and RIPOSTE_MEMBER_ROLE) to act in other accounts`,
        retryable: false,
      };
    }
    if (listed.has(accountId)) return { allowed: true };
    const organizationId = options.organizationId;
    if (organizationId === undefined || options.organizationOf === undefined) {
      return { allowed: false, reason: `account ${accountId} is not in RIPOSTE_ACCOUNTS`, retryable: false };
    }
    const now = clock().getTime();
    let membership = memberships.get(accountId);
    if (!membership || now - membership.at > MEMBERSHIP_TTL_MS) {
      try {
        membership = { organization: await options.organizationOf(accountId), at: now };
      } catch (error) {
        const name = (error as { name?: unknown })?.name;
        return {
          allowed: false,
          reason: `cannot tell whether account ${accountId} belongs to ${organizationId} (Organizations DescribeAccount: ${typeof name === 'string' ? name : 'UnknownError'}); refused`,
          retryable: name !== 'AccessDeniedException' && name !== 'AccountNotFoundException',
        };
      }
      memberships.set(accountId, membership);
    }
    return membership.organization === organizationId
      ? { allowed: true }
      : {
          allowed: false,
          reason: `account ${accountId} is neither in RIPOSTE_ACCOUNTS nor in organization ${organizationId}`,
          retryable: false,
        };
  };

  return { check };
};

export type AccountPolicy = ReturnType<typeof createAccountPolicy>;

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
  send(command: GetCallerIdentityCommand): Promise<{ Account?: string; Arn?: string }>;
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
  /** Sent as `ExternalId` with every AssumeRole, when the member roles' trust policy asks for one. */
  externalId?: string;
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
          ...(options.externalId === undefined ? {} : { ExternalId: options.externalId }),
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
