import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { GuardDutyClient } from '@aws-sdk/client-guardduty';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { STSClient } from '@aws-sdk/client-sts';
import type { WAFV2Client } from '@aws-sdk/client-wafv2';
import { sdk } from './sdk/load.js';

/** Where a call goes: the finding's account and region (credentials are chosen per account). */
export interface AwsScope {
  accountId: string;
  region: string;
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Resolves credentials on demand, as the SDK's credential providers do (`fromTemporaryCredentials`, ...). */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

export interface AwsClientConfig {
  /** Attempts per call, first one included (SDK default 3). */
  maxAttempts?: number;
  /** Socket timeout of one attempt, in milliseconds. */
  requestTimeoutMs?: number;
  /** One endpoint for every service (LocalStack, moto); `AWS_ENDPOINT_URL` does the same from the environment. */
  endpoint?: string;
}

/**
 * Principals no action may change, on top of the built-in list (service-linked, SSO, organization
 * and StackSet roles): what the function runs as, and what its operators name.
 */
export interface PrincipalProtection {
  /** ARNs of the roles the function itself runs as (learned at initialisation). */
  ownRoleArns: string[];
  /** The member role's name (with its path, if any), protected in every account. */
  memberRoleName?: string;
  /** `RIPOSTE_PROTECTED_PRINCIPALS`: principal names and ARN patterns (`*` and `?` wildcards). */
  extra: string[];
}

/** The service bag built-in actions run with (`S` in `ActionContext<P, S>`). */
export interface AwsServices {
  ec2(scope: AwsScope): Promise<EC2Client>;
  ecs(scope: AwsScope): Promise<ECSClient>;
  eks(scope: AwsScope): Promise<EKSClient>;
  guardduty(scope: AwsScope): Promise<GuardDutyClient>;
  organizations(scope: AwsScope): Promise<OrganizationsClient>;
  rds(scope: AwsScope): Promise<RDSClient>;
  iam(scope: AwsScope): Promise<IAMClient>;
  lambda(scope: AwsScope): Promise<LambdaClient>;
  s3(scope: AwsScope): Promise<S3Client>;
  securityhub(scope: AwsScope): Promise<SecurityHubClient>;
  sns(scope: AwsScope): Promise<SNSClient>;
  sts(scope: AwsScope): Promise<STSClient>;
  cloudtrail(scope: AwsScope): Promise<CloudTrailClient>;
  wafv2(scope: AwsScope): Promise<WAFV2Client>;
  /**
   * The identity the clients of this scope run as (STS GetCallerIdentity, cached), so
   * revoke-role-sessions can refuse the function's own role. `undefined` when it cannot be read.
   */
  callerIdentity(scope: AwsScope): Promise<{ account?: string; arn?: string } | undefined>;
  /** Settings actions read: `RIPOSTE_SNS_TOPIC_ARN`, `RIPOSTE_WEBHOOK_URL`. */
  env: Record<string, string | undefined>;
  /** Principals that actions refuse to change. */
  protection: PrincipalProtection;
  /** Used by `notify` for the webhook. */
  fetch: typeof fetch;
}

/** The SDK client classes, by service. Tests swap them to observe construction. */
export interface AwsClientClasses {
  ec2: typeof EC2Client;
  ecs: typeof ECSClient;
  eks: typeof EKSClient;
  guardduty: typeof GuardDutyClient;
  organizations: typeof OrganizationsClient;
  rds: typeof RDSClient;
  iam: typeof IAMClient;
  lambda: typeof LambdaClient;
  s3: typeof S3Client;
  securityhub: typeof SecurityHubClient;
  sns: typeof SNSClient;
  sts: typeof STSClient;
  cloudtrail: typeof CloudTrailClient;
  wafv2: typeof WAFV2Client;
}

export interface AwsServicesOptions {
  /**
   * Credentials for a scope; `undefined` uses the SDK's default chain. Called once per account and
   * region. The Lambda adapter returns an assume-role provider for member accounts.
   */
  credentialsFor?: (scope: AwsScope) => AwsCredentialsProvider | undefined;
  clientConfig?: AwsClientConfig;
  /** Default: `process.env`. */
  env?: Record<string, string | undefined>;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Default: only the built-in protected principals (and the caller's own role, checked per call). */
  protection?: PrincipalProtection;
  /** Replacement client classes (tests); the real ones are imported on first use otherwise. */
  clientClasses?: Partial<AwsClientClasses>;
  /**
   * Who the default credentials are, when the caller already asked STS (the Lambda does at
   * initialisation): `callerIdentity` answers with it for every scope `credentialsFor` gives no
   * credentials of its own, instead of asking again.
   */
  identity?: { account: string; arn: string };
}

type ServiceName = keyof AwsClientClasses;
type ClientOf<K extends ServiceName> = InstanceType<AwsClientClasses[K]>;

// Each service's SDK module is imported the first time a plan needs it: a Lambda cold start that
// only notifies never pays for loading the EC2 client (see ./sdk/load.ts).
const loaders: { [K in ServiceName]: () => Promise<AwsClientClasses[K]> } = {
  ec2: async () => (await sdk.ec2()).EC2Client,
  ecs: async () => (await sdk.ecs()).ECSClient,
  eks: async () => (await sdk.eks()).EKSClient,
  guardduty: async () => (await sdk.guardduty()).GuardDutyClient,
  organizations: async () => (await sdk.organizations()).OrganizationsClient,
  rds: async () => (await sdk.rds()).RDSClient,
  iam: async () => (await sdk.iam()).IAMClient,
  lambda: async () => (await sdk.lambda()).LambdaClient,
  s3: async () => (await sdk.s3()).S3Client,
  securityhub: async () => (await sdk.securityhub()).SecurityHubClient,
  sns: async () => (await sdk.sns()).SNSClient,
  sts: async () => (await sdk.sts()).STSClient,
  cloudtrail: async () => (await sdk.cloudtrail()).CloudTrailClient,
  wafv2: async () => (await sdk.wafv2()).WAFV2Client,
};

const scopeKey = (scope: AwsScope): string => `${scope.accountId}/${scope.region}`;

/**
 * Builds the AWS service bag: one client per service, account and region (and so per credentials),
 * created on first use and reused. Clients use the SDK's standard configuration chain
 * (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL`) with adaptive retries.
 */
export const createAwsServices = (options: AwsServicesOptions = {}): AwsServices => {
  const env = options.env ?? process.env;
  const config = options.clientConfig ?? {};
  const endpoint = config.endpoint;
  // Path-style addressing keeps bucket names out of the host name, which local endpoints need.
  const forcePathStyle = Boolean(endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
  const credentials = new Map<string, AwsCredentialsProvider | undefined>();
  const clients = new Map<string, Promise<unknown>>();
  const identities = new Map<string, Promise<{ account?: string; arn?: string } | undefined>>();

  const credentialsOf = (scope: AwsScope): AwsCredentialsProvider | undefined => {
    const key = scopeKey(scope);
    if (!credentials.has(key)) credentials.set(key, options.credentialsFor?.(scope));
    return credentials.get(key);
  };

  const client = <K extends ServiceName>(service: K, scope: AwsScope): Promise<ClientOf<K>> => {
    const key = `${service}/${scopeKey(scope)}`;
    let pending = clients.get(key) as Promise<ClientOf<K>> | undefined;
    if (!pending) {
      pending = (async () => {
        const ClientClass = (options.clientClasses?.[service] ?? (await loaders[service]())) as new (
          configuration: Record<string, unknown>,
        ) => ClientOf<K>;
        const provider = credentialsOf(scope);
        return new ClientClass({
          region: scope.region,
          retryMode: 'adaptive',
          ...(config.maxAttempts === undefined ? {} : { maxAttempts: config.maxAttempts }),
          // Without throwOnRequestTimeout the SDK only logs a warning when the timeout passes.
          ...(config.requestTimeoutMs === undefined
            ? {}
            : { requestHandler: { requestTimeout: config.requestTimeoutMs, throwOnRequestTimeout: true } }),
          ...(endpoint === undefined ? {} : { endpoint }),
          ...(provider === undefined ? {} : { credentials: provider }),
          // A bucket outside the finding's region answers with a redirect the client then follows.
          ...(service === 's3' ? { followRegionRedirects: true } : {}),
          ...(service === 's3' && forcePathStyle ? { forcePathStyle: true } : {}),
        });
      })();
      clients.set(key, pending);
    }
    return pending;
  };

  const callerIdentity = (scope: AwsScope): Promise<{ account?: string; arn?: string } | undefined> => {
    if (options.identity !== undefined && credentialsOf(scope) === undefined) {
      return Promise.resolve({ ...options.identity });
    }
    const key = scopeKey(scope);
    let pending = identities.get(key);
    if (!pending) {
      pending = (async () => {
        try {
          const sts = await client('sts', scope);
          const { GetCallerIdentityCommand } = await sdk.sts();
          const output = await sts.send(new GetCallerIdentityCommand({}));
          return { account: output.Account, arn: output.Arn };
        } catch {
          // Unknown identity is an answer, not a failure: the next call may succeed, so forget it.
          identities.delete(key);
          return undefined;
        }
      })();
      identities.set(key, pending);
    }
    return pending;
  };

  return {
    ec2: (scope) => client('ec2', scope),
    ecs: (scope) => client('ecs', scope),
    eks: (scope) => client('eks', scope),
    guardduty: (scope) => client('guardduty', scope),
    // Organizations has one endpoint, in us-east-1 for the commercial partition.
    organizations: (scope) => client('organizations', scope),
    rds: (scope) => client('rds', scope),
    iam: (scope) => client('iam', scope),
    lambda: (scope) => client('lambda', scope),
    s3: (scope) => client('s3', scope),
    securityhub: (scope) => client('securityhub', scope),
    sns: (scope) => client('sns', scope),
    sts: (scope) => client('sts', scope),
    cloudtrail: (scope) => client('cloudtrail', scope),
    wafv2: (scope) => client('wafv2', scope),
    callerIdentity,
    env,
    protection: options.protection ?? { ownRoleArns: [], extra: [] },
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
  };
};
