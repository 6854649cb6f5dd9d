import { type AwsServices, createAwsServices } from '@riposte/actions';
import type { ActionTarget } from '@riposte/core';
import { createMemberCredentials, type StsLike } from '@riposte/lambda-adapter';
import { type CliIO, UsageError } from './io.js';

/** Who runs a command that changes something: recorded in history as the actor. */
export interface Caller {
  accountId: string;
  arn: string;
  partition: string;
}

/** The caller's identity from STS, with the caller's own credentials. Without one, nothing is changed. */
export const callerOf = async (services: AwsServices, io: CliIO): Promise<Caller> => {
  const region = io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const identity = await services.callerIdentity({ accountId: 'self', region });
  const partition = /^arn:(aws[a-z-]*):/.exec(identity?.arn ?? '')?.[1];
  if (!identity?.account || !identity.arn || !partition) {
    throw new UsageError(
      'no AWS credentials: this command acts with your credentials, and records who you are',
    );
  }
  return { accountId: identity.account, arn: identity.arn, partition };
};

/**
 * Services for the targets a command acts on: the caller's own credentials in the caller's account,
 * and `roleName` assumed (with those credentials) in any other account.
 */
export const accountServices = async (
  io: CliIO,
  roleName: string | undefined,
): Promise<{ caller: Caller; servicesFor: (target: Pick<ActionTarget, 'accountId'>) => AwsServices }> => {
  const own = createAwsServices({ env: io.env });
  const caller = await callerOf(own, io);
  const region = io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const sts = (await own.sts({ accountId: caller.accountId, region })) as unknown as StsLike;
  const members = roleName ? createMemberCredentials({ roleName, sts, clock: () => new Date() }) : undefined;
  const byAccount = new Map<string, AwsServices>();
  const servicesFor = (target: Pick<ActionTarget, 'accountId'>): AwsServices => {
    if (target.accountId === caller.accountId) return own;
    if (!members) {
      throw new UsageError(
        `the target is in account ${target.accountId}, not yours (${caller.accountId}); name the role to assume there with --role`,
      );
    }
    let services = byAccount.get(target.accountId);
    if (!services) {
      const account = { accountId: target.accountId, partition: caller.partition };
      services = createAwsServices({ env: io.env, credentialsFor: () => members.provider(account) });
      byAccount.set(target.accountId, services);
    }
    return services;
  };
  return { caller, servicesFor };
};
