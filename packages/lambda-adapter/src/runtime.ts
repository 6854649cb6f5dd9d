import {
  type AwsServices,
  type AwsServicesOptions,
  createAwsServices,
  createGuardDutyVerifier,
  createRegistry,
  type FindingVerifier,
} from '@riposte/actions';
import {
  type ActionRegistry,
  createEngine,
  type Engine,
  type Finding,
  type MutationGate,
  type Playbook,
} from '@riposte/core';
import {
  createAccountPolicy,
  createMemberCredentials,
  type FunctionIdentity,
  learnIdentity,
  type MemberCredentials,
  type StsLike,
} from './accounts.js';
import {
  type Admission,
  type AdmissionGate,
  createAdmission,
  type VerificationSummary,
} from './admission.js';
import { createForgeryAlarm } from './alerts.js';
import { createDynamoDbBreaker, createMemoryBreaker } from './breaker.js';
import { bundledPlaybooks } from './bundled-playbooks.js';
import { type AdapterConfig, IDEMPOTENCY_TTL_SECONDS, readConfig } from './config.js';
import { MemberRoleError } from './errors.js';
import {
  createDynamoDbHistory,
  createMemoryHistory,
  createS3HistoryWriter,
  teeHistory,
} from './history/index.js';
import type { HistoryStore } from './history/record.js';
import { createDynamoDbStore, type DynamoDbLike } from './idempotency/dynamodb.js';
import { createIdempotencyGuard, type IdempotencyGuard } from './idempotency/guard.js';
import { createMemoryStore } from './idempotency/memory.js';
import type { IdempotencyStore } from './idempotency/store.js';
import { createLogger, type LogDestination, type Logger } from './logger.js';
import { createResponseMetrics, type ResponseMetrics } from './metrics.js';
import { loadFunctionPlaybooks } from './playbooks.js';
import { organizationsSdk } from './sdk.js';

/**
 * The most one attempt of one AWS call may take. Control-plane calls answer in well under a second;
 * without a limit, a call that never answers would hold the invocation until Lambda's own timeout and
 * lose the report. A timed-out attempt is retried by the SDK, then reported as a retryable failure.
 */
export const AWS_REQUEST_TIMEOUT_MS = 5_000;

export interface HandlerOptions {
  /** Default: `process.env`. */
  env?: Record<string, string | undefined>;
  /** Default: the built-in actions. */
  registry?: ActionRegistry<AwsServices>;
  /** Compiled playbooks to use instead of loading `RIPOSTE_PLAYBOOKS` or the bundled ones. */
  playbooks?: Playbook[];
  /** The bundled playbooks (the bundle embeds them compiled; default: the installed `@riposte/rules`). */
  bundled?: (registry: ActionRegistry<unknown>) => Promise<Playbook[]>;
  /** Builds the AWS service bag; default `createAwsServices`. Tests point it at a fake. */
  createServices?: (options: AwsServicesOptions) => AwsServices;
  /** Default: DynamoDB when `RIPOSTE_IDEMPOTENCY_TABLE` is set, else memory. */
  store?: IdempotencyStore;
  /** The DynamoDB client of the default idempotency store and circuit breaker. */
  dynamodb?: DynamoDbLike;
  /** The STS client: the function's identity at initialisation, and member roles. */
  sts?: StsLike;
  /**
   * Re-reads each delivered finding from its source. Default: GuardDuty GetFindings. There is no
   * setting that turns verification off; a library user or a test may supply its own verifier.
   */
  verifier?: (services: VerifierServices) => FindingVerifier;
  /** Default: a circuit breaker on RIPOSTE_MAX_TARGETS_PER_HOUR, in DynamoDB when there is a table. */
  gate?: MutationGate;
  clock?: () => Date;
  /** Default: stdout. */
  logDestination?: LogDestination;
  /** How long an idempotency record lasts. Default 30 days. */
  idempotencyTtlSeconds?: number;
  /**
   * Where responses are recorded. Default: DynamoDB when `RIPOSTE_HISTORY_TABLE` is set (with an S3
   * copy when `RIPOSTE_HISTORY_BUCKET` is), else memory.
   */
  history?: HistoryStore;
  /** Where the EMF metric lines go. Default: standard output, where Lambda's log capture finds them. */
  metricsOutput?: (line: string) => void;
}

/** What a verifier is built from: the function's own services and those of a finding's member account. */
export interface VerifierServices {
  own: FunctionIdentity;
  services: AwsServices;
  memberServices: (finding: Finding) => AwsServices | undefined;
}

/** A finding refused before anything ran or was remembered, and why. */
export interface Refusal {
  admitted: false;
  /** The copy the answer describes: the delivered one, or GuardDuty's when only the member role failed. */
  finding: Finding;
  code: Extract<Admission, { admitted: false }>['code'] | 'ASSUME_ROLE_FAILED';
  message: string;
  retryable: boolean;
  verification?: VerificationSummary;
}

/** What becomes of a delivered finding at the door: GuardDuty's copy to act on, or a refusal. */
export type Entry = Extract<Admission, { admitted: true }> | Refusal;

/** Everything one container sets up once: configuration, identity, the door, the guard and the engine. */
export interface Runtime {
  config: AdapterConfig;
  logger: Logger;
  own: FunctionIdentity;
  /** Admission, the forgery alarm and the member role of the finding's account. */
  admit(delivered: Finding, options?: { ignoreAge?: boolean }): Promise<Entry>;
  /** Where every response, approval and rejection is recorded. */
  history: HistoryStore;
  guard: IdempotencyGuard;
  engine: Engine;
  clock: () => Date;
  /** Findings, steps, refusals and timings as CloudWatch metrics (EMF), flushed once per invocation. */
  metrics: ResponseMetrics;
}

interface EntryServices {
  admission: AdmissionGate;
  alarm: ReturnType<typeof createForgeryAlarm>;
  members: MemberCredentials | undefined;
  isMemberFinding(finding: Finding): boolean;
}

/**
 * The door every finding goes through: the admission gate (allowed account, GuardDuty's own copy,
 * fresh enough), the alarm when GuardDuty does not hold the finding as delivered, then the member role
 * in the finding's account. Nothing is changed or remembered of a finding that does not pass.
 */
const createEntry =
  ({ admission, alarm, members, isMemberFinding }: EntryServices) =>
  async (delivered: Finding, options: { ignoreAge?: boolean } = {}): Promise<Entry> => {
    // Nothing about the delivered copy is believed until GuardDuty vouches for it.
    const admitted = await admission.admit(delivered, options);
    if (!admitted.admitted) {
      if (admitted.code === 'FINDING_UNVERIFIED') {
        await alarm.raise(delivered, admitted.verification?.reason ?? admitted.message);
      }
      return { ...admitted, finding: delivered };
    }
    const { finding, verification } = admitted;
    if (members && isMemberFinding(finding)) {
      try {
        await members.get({
          accountId: finding.accountId,
          partition: finding.partition,
          findingId: finding.id,
        });
      } catch (error) {
        if (!(error instanceof MemberRoleError)) throw error;
        const { message, retryable } = error;
        return { admitted: false, finding, code: 'ASSUME_ROLE_FAILED', message, retryable, verification };
      }
    }
    return admitted;
  };

/** The configured history: the table (with its S3 copy), or the container's memory. */
const historyOf = (
  config: AdapterConfig,
  dynamodb: DynamoDbLike | undefined,
  clock: () => Date,
): HistoryStore => {
  if (!config.historyTable) return createMemoryHistory();
  const table = createDynamoDbHistory({
    tableName: config.historyTable,
    ttlDays: config.historyTtlDays,
    clock,
    ...(dynamodb ? { client: dynamodb as never } : {}),
  });
  return config.historyBucket
    ? teeHistory(table, createS3HistoryWriter({ bucket: config.historyBucket }))
    : table;
};

// Organizations answers in one region per partition.
const ORGANIZATIONS_REGION: Record<string, string> = {
  aws: 'us-east-1',
  'aws-us-gov': 'us-gov-west-1',
  'aws-cn': 'cn-northwest-1',
};

const FATAL = 'riposte cannot start: refusing every event until the configuration is fixed';

/**
 * Initialises a container: reads the environment, asks STS who the function is, loads and compiles
 * the playbooks, and builds the engine. Anything wrong fails the initialisation, never an event.
 */
export const initialise = async (options: HandlerOptions): Promise<Runtime> => {
  const env = options.env ?? process.env;
  const clock = options.clock ?? (() => new Date());
  const destination = options.logDestination ? { destination: options.logDestination } : {};
  let config: AdapterConfig;
  try {
    config = readConfig(env);
  } catch (error) {
    // No level to honour yet: the refusal is logged at the default one, the webhook still masked.
    const secrets = env.RIPOSTE_WEBHOOK_URL ? [env.RIPOSTE_WEBHOOK_URL] : [];
    createLogger({ level: 'info', secrets, ...destination }).fatal({ err: error }, FATAL);
    throw error;
  }
  const logger = createLogger({
    level: config.logLevel,
    secrets: config.webhookUrl ? [config.webhookUrl] : [],
    ...destination,
  });
  try {
    const createServices = options.createServices ?? createAwsServices;
    const clientConfig = { requestTimeoutMs: AWS_REQUEST_TIMEOUT_MS };
    const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
    // STS with the same configuration as every other client (endpoint, timeouts), in the function's region.
    const sts: StsLike =
      options.sts ?? (await createServices({ env, clientConfig }).sts({ accountId: 'self', region }));
    const registry = options.registry ?? createRegistry();
    const [identity, loaded] = await Promise.allSettled([
      learnIdentity(sts),
      options.playbooks ??
        loadFunctionPlaybooks(config.playbooksDir, registry, options.bundled ?? bundledPlaybooks),
    ]);
    // A broken playbook is the more useful error to report; either one stops the function.
    if (loaded.status === 'rejected') throw loaded.reason;
    if (identity.status === 'rejected') throw identity.reason;
    const own = identity.value;
    const playbooks = loaded.value;
    const protection = {
      ownRoleArns: own.roleArn ? [own.roleArn] : [],
      ...(config.memberRole ? { memberRoleName: config.memberRole } : {}),
      extra: config.protectedPrincipals,
    };
    // Who the function is, as STS just said: the protected-principal check need not ask again.
    const ownServices = createServices({
      env,
      clientConfig,
      protection,
      identity: { account: own.accountId, arn: own.arn },
    });
    const members = config.memberRole
      ? createMemberCredentials({
          roleName: config.memberRole,
          ...(config.memberExternalId === undefined ? {} : { externalId: config.memberExternalId }),
          clock,
          sts,
        })
      : undefined;
    const isMemberFinding = (finding: Finding): boolean => finding.accountId !== own.accountId;
    // One service bag per member account, its clients signed with the assumed role.
    const memberServices = new Map<string, AwsServices>();
    const memberServicesFor = (finding: Finding): AwsServices | undefined => {
      if (!members || !isMemberFinding(finding)) return undefined;
      let services = memberServices.get(finding.accountId);
      if (!services) {
        const account = { accountId: finding.accountId, partition: finding.partition };
        services = createServices({
          env,
          clientConfig,
          protection,
          credentialsFor: () => members.provider(account),
        });
        memberServices.set(finding.accountId, services);
      }
      return services;
    };
    const gate =
      options.gate ??
      (config.idempotencyTable
        ? createDynamoDbBreaker({
            tableName: config.idempotencyTable,
            ...(options.dynamodb ? { client: options.dynamodb } : {}),
            maxTargetsPerHour: config.maxTargetsPerHour,
            clock,
          })
        : createMemoryBreaker({ maxTargetsPerHour: config.maxTargetsPerHour, clock }));
    const engine = createEngine({
      playbooks,
      registry,
      services: ownServices,
      servicesFor: (finding) => memberServicesFor(finding) ?? ownServices,
      mode: config.mode,
      clock,
      gate,
    });
    const verifierServices = { own, services: ownServices, memberServices: memberServicesFor };
    const verifier = options.verifier
      ? options.verifier(verifierServices)
      : createGuardDutyVerifier({
          services: ownServices,
          ownAccountId: own.accountId,
          memberServices: memberServicesFor,
        });
    const organizationsScope = {
      accountId: own.accountId,
      region: ORGANIZATIONS_REGION[own.partition] ?? 'us-east-1',
    };
    const accounts = createAccountPolicy({
      own,
      accounts: config.accounts,
      ...(config.organizationId ? { organizationId: config.organizationId } : {}),
      organizationOf: async (accountId) => {
        const [organizations, { DescribeAccountCommand }] = await Promise.all([
          ownServices.organizations(organizationsScope),
          organizationsSdk(),
        ]);
        const { Account } = await organizations.send(new DescribeAccountCommand({ AccountId: accountId }));
        // arn:aws:organizations::<management>:account/o-xxxxxxxxxx/<account id>
        return /:account\/(o-[a-z0-9]{10,32})\/\d{12}$/.exec(Account?.Arn ?? '')?.[1];
      },
      clock,
    });
    const store =
      options.store ??
      (config.idempotencyTable
        ? createDynamoDbStore({
            tableName: config.idempotencyTable,
            ...(options.dynamodb ? { client: options.dynamodb } : {}),
          })
        : createMemoryStore());
    const history = options.history ?? historyOf(config, options.dynamodb, clock);
    const alarm = createForgeryAlarm({
      services: ownServices,
      scope: { accountId: own.accountId, region },
      ...(config.snsTopicArn ? { topicArn: config.snsTopicArn } : {}),
      mode: config.mode,
      logger,
      clock,
    });
    logger.info(
      {
        mode: config.mode,
        account: own.accountId,
        identity: own.arn,
        playbooks: playbooks.map((playbook) => playbook.name),
        playbookSource: options.playbooks ? 'given' : (config.playbooksDir ?? 'bundled'),
        idempotency: config.idempotencyTable ? 'dynamodb' : 'memory',
        history: config.historyTable ? 'dynamodb' : 'memory',
        historyBucket: config.historyBucket ?? null,
        memberRole: config.memberRole ?? null,
        accounts: config.accounts,
        organizationId: config.organizationId ?? null,
        maxTargetsPerHour: config.maxTargetsPerHour,
      },
      'riposte initialised',
    );
    const admission = createAdmission({
      own,
      hasMemberRole: members !== undefined,
      accounts,
      verifier,
      maxFindingAgeSeconds: config.maxFindingAgeSeconds,
      clock,
    });
    return {
      config,
      logger,
      own,
      admit: createEntry({ admission, alarm, members, isMemberFinding }),
      guard: createIdempotencyGuard({
        store,
        ttlSeconds: options.idempotencyTtlSeconds ?? IDEMPOTENCY_TTL_SECONDS,
        logger,
        clock,
      }),
      engine,
      history,
      clock,
      // Stamped with the wall clock when flushed: CloudWatch refuses metrics from outside its window.
      metrics: createResponseMetrics({
        ...(options.metricsOutput ? { output: options.metricsOutput } : {}),
        ...(env.AWS_LAMBDA_FUNCTION_NAME ? { serviceName: env.AWS_LAMBDA_FUNCTION_NAME } : {}),
      }),
    };
  } catch (error) {
    logger.fatal({ err: error }, FATAL);
    throw error;
  }
};
