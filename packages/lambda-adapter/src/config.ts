import type { EngineMode } from '@riposte/core';
import { AdapterConfigurationError, type ConfigProblem } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The function's settings, read once per container from its environment. */
export interface AdapterConfig {
  /** The ceiling for every playbook: nothing mutates in `dry-run`. */
  mode: EngineMode;
  /** A directory of playbooks to load instead of the ones bundled at build time. */
  playbooksDir?: string;
  /** DynamoDB table of idempotency records; unset keeps them in the container's memory. */
  idempotencyTable?: string;
  /** Role name assumed in a finding's account when it is not the function's own. */
  memberRole?: string;
  /** `RIPOSTE_MEMBER_EXTERNAL_ID`: the `sts:ExternalId` the member role's trust policy asks for. */
  memberExternalId?: string;
  /** Where `notify` publishes when a playbook names no topic. */
  snsTopicArn?: string;
  /** Where `notify` posts when a playbook names no webhook. A secret: never logged. */
  webhookUrl?: string;
  logLevel: LogLevel;
  /** `RIPOSTE_ACCOUNTS`: the accounts the function may act in (with the organization's, if given). */
  accounts: string[];
  /** `RIPOSTE_ORGANIZATION_ID`: every account of this organization may be acted in. */
  organizationId?: string;
  /** `RIPOSTE_PROTECTED_PRINCIPALS`: names and ARN patterns no action may change. */
  protectedPrincipals: string[];
  /** `RIPOSTE_MAX_TARGETS_PER_HOUR`: mutated targets per account over a rolling hour. */
  maxTargetsPerHour: number;
  /** `RIPOSTE_MAX_FINDING_AGE` in seconds: older findings (by their last update) are refused. */
  maxFindingAgeSeconds: number;
  /** `RIPOSTE_HISTORY_TABLE`: DynamoDB table of every response's full report; unset keeps them in memory. */
  historyTable?: string;
  /** `RIPOSTE_HISTORY_BUCKET`: also write each record to S3, partitioned by date, for Athena. */
  historyBucket?: string;
  /** `RIPOSTE_HISTORY_TTL_DAYS`: how long history records are kept. Default 400. */
  historyTtlDays: number;
  /** `RIPOSTE_APPROVAL_TIMEOUT_HOURS`: how long held steps wait for approval. Default 24. */
  approvalTimeoutHours: number;
}

/** Idempotency records outlive the oldest finding the function accepts, so a replay is always recognised. */
export const IDEMPOTENCY_TTL_SECONDS = 30 * 24 * 3600;

const ACCOUNT = /^\d{12}$/;
const ORGANIZATION = /^o-[a-z0-9]{10,32}$/;
// A principal's name, or an IAM/STS ARN pattern (`*` and `?` allowed) such as `arn:aws:iam::*:role/breakglass-*`.
const PRINCIPAL = /^(?:[\w+=,.@*?-]{1,64}|arn:[\w*?-]+:(?:iam|sts)::[\d*?]{1,12}:[\w+=,.@/*?-]{1,512})$/;
const DURATION = /^(\d{1,7})([smhd]?)$/;
const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

const list = (value: string | undefined): string[] =>
  value === undefined
    ? []
    : value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');

// DynamoDB accepts a table's name or its ARN wherever it takes a TableName.
const TABLE =
  /^(?:[A-Za-z0-9_.-]{3,255}|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255})$/;
// IAM role names, optionally under a path (`security/riposte-member`).
const ROLE = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
// What STS accepts as an ExternalId.
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const BUCKET = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const TOPIC = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/;

/** An unset or blank variable is absent: CloudFormation writes `''` for an empty parameter. */
const read = (env: Record<string, string | undefined>, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value ? value : undefined;
};

const isHttpsUrl = (text: string): boolean => {
  try {
    return new URL(text).protocol === 'https:';
  } catch {
    return false;
  }
};

/**
 * Reads and checks the environment. Every problem is reported at once, and a problem never quotes the
 * webhook URL (it carries its own credentials).
 */
export const readConfig = (env: Record<string, string | undefined>): AdapterConfig => {
  const problems: ConfigProblem[] = [];
  const config: AdapterConfig = {
    mode: 'dry-run',
    logLevel: 'info',
    accounts: [],
    protectedPrincipals: [],
    maxTargetsPerHour: 50,
    maxFindingAgeSeconds: 7 * 86_400,
    historyTtlDays: 400,
    approvalTimeoutHours: 24,
  };

  const mode = read(env, 'RIPOSTE_MODE');
  if (mode === 'dry-run' || mode === 'enforce') config.mode = mode;
  else if (mode !== undefined) {
    problems.push({ variable: 'RIPOSTE_MODE', message: `must be "dry-run" or "enforce", not "${mode}"` });
  }

  const playbooksDir = read(env, 'RIPOSTE_PLAYBOOKS');
  if (playbooksDir !== undefined) config.playbooksDir = playbooksDir;

  const table = read(env, 'RIPOSTE_IDEMPOTENCY_TABLE');
  if (table !== undefined && !TABLE.test(table)) {
    problems.push({
      variable: 'RIPOSTE_IDEMPOTENCY_TABLE',
      message: `"${table}" is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -) or table ARN`,
    });
  } else if (table !== undefined) config.idempotencyTable = table;

  const history = read(env, 'RIPOSTE_HISTORY_TABLE');
  if (history !== undefined && !TABLE.test(history)) {
    problems.push({
      variable: 'RIPOSTE_HISTORY_TABLE',
      message: `"${history}" is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -) or table ARN`,
    });
  } else if (history !== undefined) config.historyTable = history;

  const bucket = read(env, 'RIPOSTE_HISTORY_BUCKET');
  if (bucket !== undefined && !BUCKET.test(bucket)) {
    problems.push({
      variable: 'RIPOSTE_HISTORY_BUCKET',
      message: `"${bucket.slice(0, 80)}" is not an S3 bucket name (3-63 of a-z 0-9 . -)`,
    });
  } else if (bucket !== undefined) config.historyBucket = bucket;

  const whole = (variable: string, min: number, max: number, unit: string): number | undefined => {
    const value = read(env, variable);
    if (value === undefined) return undefined;
    const number = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
    if (number >= min && number <= max) return number;
    problems.push({
      variable,
      message: `must be a whole number of ${unit} from ${min} to ${max}, not "${value.slice(0, 20)}"`,
    });
    return undefined;
  };
  config.historyTtlDays = whole('RIPOSTE_HISTORY_TTL_DAYS', 1, 3650, 'days') ?? config.historyTtlDays;
  config.approvalTimeoutHours =
    whole('RIPOSTE_APPROVAL_TIMEOUT_HOURS', 1, 720, 'hours') ?? config.approvalTimeoutHours;

  const role = read(env, 'RIPOSTE_MEMBER_ROLE');
  if (role !== undefined && (role.startsWith('arn:') || !ROLE.test(role))) {
    problems.push({
      variable: 'RIPOSTE_MEMBER_ROLE',
      message: `"${role}" is not an IAM role name (the role's name, not its ARN: the account comes from each finding)`,
    });
  } else if (role !== undefined) config.memberRole = role;

  const externalId = read(env, 'RIPOSTE_MEMBER_EXTERNAL_ID');
  if (externalId !== undefined && !EXTERNAL_ID.test(externalId)) {
    problems.push({
      variable: 'RIPOSTE_MEMBER_EXTERNAL_ID',
      message: `must be 2 to 1224 of A-Z a-z 0-9 _ + = , . @ : / - (${externalId.length} characters given; value not shown)`,
    });
  } else if (externalId !== undefined && role === undefined) {
    problems.push({
      variable: 'RIPOSTE_MEMBER_EXTERNAL_ID',
      message: 'is only sent when assuming RIPOSTE_MEMBER_ROLE, which is not set',
    });
  } else if (externalId !== undefined) config.memberExternalId = externalId;

  const topic = read(env, 'RIPOSTE_SNS_TOPIC_ARN');
  if (topic !== undefined && !TOPIC.test(topic)) {
    problems.push({ variable: 'RIPOSTE_SNS_TOPIC_ARN', message: `"${topic}" is not an SNS topic ARN` });
  } else if (topic !== undefined) config.snsTopicArn = topic;

  const webhook = read(env, 'RIPOSTE_WEBHOOK_URL');
  if (webhook !== undefined && !isHttpsUrl(webhook)) {
    problems.push({ variable: 'RIPOSTE_WEBHOOK_URL', message: 'must be an https:// URL (value not shown)' });
  } else if (webhook !== undefined) config.webhookUrl = webhook;

  const level = read(env, 'LOG_LEVEL')?.toLowerCase();
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
    problems.push({
      variable: 'LOG_LEVEL',
      message: `must be one of ${LOG_LEVELS.join(', ')}, not "${level}"`,
    });
  } else if (level !== undefined) config.logLevel = level as LogLevel;

  const accounts = list(read(env, 'RIPOSTE_ACCOUNTS'));
  const badAccounts = accounts.filter((account) => !ACCOUNT.test(account));
  if (badAccounts.length > 0) {
    problems.push({
      variable: 'RIPOSTE_ACCOUNTS',
      message: `${badAccounts.map((account) => JSON.stringify(account.slice(0, 40))).join(', ')} is not a 12-digit account id`,
    });
  } else config.accounts = [...new Set(accounts)];

  const organization = read(env, 'RIPOSTE_ORGANIZATION_ID');
  if (organization !== undefined && !ORGANIZATION.test(organization)) {
    problems.push({
      variable: 'RIPOSTE_ORGANIZATION_ID',
      message: `"${organization}" is not an organization id (o-...)`,
    });
  } else if (organization !== undefined) config.organizationId = organization;

  if (config.memberRole !== undefined && accounts.length === 0 && organization === undefined) {
    problems.push({
      variable: 'RIPOSTE_MEMBER_ROLE',
      message:
        'acting in member accounts needs RIPOSTE_ACCOUNTS and/or RIPOSTE_ORGANIZATION_ID: a finding alone must never choose the account to assume into',
    });
  }

  const principals = list(read(env, 'RIPOSTE_PROTECTED_PRINCIPALS'));
  const badPrincipals = principals.filter((principal) => !PRINCIPAL.test(principal));
  if (badPrincipals.length > 0) {
    problems.push({
      variable: 'RIPOSTE_PROTECTED_PRINCIPALS',
      message: `${badPrincipals.map((item) => JSON.stringify(item.slice(0, 80))).join(', ')} is neither a principal name nor an IAM/STS ARN pattern`,
    });
  } else config.protectedPrincipals = principals;

  const cap = read(env, 'RIPOSTE_MAX_TARGETS_PER_HOUR');
  if (cap !== undefined) {
    const value = /^\d{1,5}$/.test(cap) ? Number(cap) : Number.NaN;
    if (!(value >= 1 && value <= 10_000)) {
      problems.push({
        variable: 'RIPOSTE_MAX_TARGETS_PER_HOUR',
        message: `must be a whole number from 1 to 10000, not "${cap}"`,
      });
    } else config.maxTargetsPerHour = value;
  }

  const age = read(env, 'RIPOSTE_MAX_FINDING_AGE');
  if (age !== undefined) {
    const match = DURATION.exec(age);
    const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] ?? '']! : Number.NaN;
    if (!(seconds >= 60 && seconds < IDEMPOTENCY_TTL_SECONDS)) {
      problems.push({
        variable: 'RIPOSTE_MAX_FINDING_AGE',
        message: `must be a duration such as 7d, 12h or 3600 (seconds), from 1 minute to under the 30-day idempotency TTL, not "${age}"`,
      });
    } else config.maxFindingAgeSeconds = seconds;
  }

  if (problems.length > 0) throw new AdapterConfigurationError(problems);
  return config;
};
