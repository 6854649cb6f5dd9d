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
  /** Where `notify` publishes when a playbook names no topic. */
  snsTopicArn?: string;
  /** Where `notify` posts when a playbook names no webhook. A secret: never logged. */
  webhookUrl?: string;
  logLevel: LogLevel;
}

// DynamoDB accepts a table's name or its ARN wherever it takes a TableName.
const TABLE =
  /^(?:[A-Za-z0-9_.-]{3,255}|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255})$/;
// IAM role names, optionally under a path (`security/riposte-member`).
const ROLE = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
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
  const config: AdapterConfig = { mode: 'dry-run', logLevel: 'info' };

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

  const role = read(env, 'RIPOSTE_MEMBER_ROLE');
  if (role !== undefined && (role.startsWith('arn:') || !ROLE.test(role))) {
    problems.push({
      variable: 'RIPOSTE_MEMBER_ROLE',
      message: `"${role}" is not an IAM role name (the role's name, not its ARN: the account comes from each finding)`,
    });
  } else if (role !== undefined) config.memberRole = role;

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

  if (problems.length > 0) throw new AdapterConfigurationError(problems);
  return config;
};
