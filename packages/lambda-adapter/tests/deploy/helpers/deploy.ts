/**
 * The templates the deploy checks run over, generated in-process from the shipped playbooks, and the
 * deployments they are resolved for.
 *
 * The template builders are imported in ONE place, the line below (`@riposte/lambda-adapter/deploy`
 * as its sources, as the package's other tests import theirs): a move is a one-line change here.
 */

import { createRegistry } from '@riposte/actions';
import { loadPlaybooks, type Playbook } from '@riposte/core';
import * as deployModule from '../../../src/deploy/index.js';
import type { Deployment } from './resolve.js';

/** A CloudFormation template as the builders return it (a plain object, ready for JSON). */
export interface Template {
  AWSTemplateFormatVersion?: string;
  Parameters?: Record<string, Record<string, unknown>>;
  Conditions?: Record<string, unknown>;
  Mappings?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown }>;
  Outputs?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

type Builder = (options: Record<string, unknown>) => Template;

/** What the deploy module exports, as far as these checks use it; the member and forwarder builders may not exist yet. */
const builders = deployModule as unknown as {
  buildTemplate: Builder;
  buildMemberTemplate?: Builder;
  buildForwarderTemplate?: Builder;
};

export const buildTemplate = builders.buildTemplate;
export const buildMemberTemplate: Builder | undefined = builders.buildMemberTemplate;
export const buildForwarderTemplate: Builder | undefined = builders.buildForwarderTemplate;

const RULES = new URL('../../../../../rules', import.meta.url).pathname;
const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

export const registry = createRegistry();
export const shippedPlaybooks: Playbook[] = await loadPlaybooks([RULES], { registry });

/** The shipped playbook the quarantine fixture stands in for (same findings, a quarantine profile instead of none). */
export const REPLACED_BY_QUARANTINE = 'ec2-instance-credential-exfiltration';

/**
 * The shipped playbooks with the credential-exfiltration one disabled and the fixture that swaps in a
 * quarantine profile enabled instead: the only deployment in which `iam:PassRole` may appear.
 */
export const quarantinePlaybooks: Playbook[] = [
  ...shippedPlaybooks.map((playbook) =>
    playbook.name === REPLACED_BY_QUARANTINE ? { ...playbook, enabled: false } : playbook,
  ),
  ...(await loadPlaybooks([`${FIXTURES}quarantine-profile.yaml`], { registry })),
];

/** The quarantine fixture's profile and the one role it holds (see fixtures/quarantine-profile.yaml). */
export const QUARANTINE = { profile: 'riposte-quarantine', role: 'riposte-quarantine' } as const;

export const MEMBER_ROLE = 'riposte-member';
export const ALLOWED_ACCOUNT = '444455556666';
export const ORGANIZATION_ID = 'o-a1b2c3d4e5';

/** The administrator deployment every function template is resolved for. */
export const DEPLOYMENT: Deployment = {
  accountId: '111122223333',
  partition: 'aws',
  region: 'us-east-1',
  stackName: 'riposte',
  physicalIds: { RiposteRole: 'riposte-RiposteRole-ABC123' },
  parameters: {
    Mode: 'enforce',
    MemberRoleName: MEMBER_ROLE,
    AllowedAccounts: ALLOWED_ACCOUNT,
    NotificationTopicArn: 'arn:aws:sns:us-east-1:111122223333:security-alerts',
  },
};

/** The same deployment, acting in every account of an organization as well. */
export const ORGANIZATION_DEPLOYMENT: Deployment = {
  ...DEPLOYMENT,
  organizationId: ORGANIZATION_ID,
  parameters: { ...DEPLOYMENT.parameters, OrganizationId: ORGANIZATION_ID },
};

/** The function role's ARN in DEPLOYMENT: what member roles trust. */
const FUNCTION_ROLE_ARN = `arn:aws:iam::${DEPLOYMENT.accountId}:role/${DEPLOYMENT.physicalIds?.RiposteRole}`;

/**
 * The member-account stack's deployment: in an allowed account, trusting the function's role. A
 * parameter the template declares without a default and that is not given here is reported by the
 * resolver by name.
 */
export const MEMBER_DEPLOYMENT: Deployment = {
  accountId: ALLOWED_ACCOUNT,
  partition: 'aws',
  region: 'us-east-1',
  stackName: 'riposte-member',
  parameters: {
    FunctionRoleArn: FUNCTION_ROLE_ARN,
    MemberRoleName: MEMBER_ROLE,
    NotificationTopicArn: DEPLOYMENT.parameters.NotificationTopicArn as string,
  },
};

/** The forwarder stack: in another region of the administrator account, forwarding to us-east-1. */
export const FORWARDER_DEPLOYMENT: Deployment = {
  accountId: DEPLOYMENT.accountId,
  partition: 'aws',
  region: 'eu-west-1',
  stackName: 'riposte-forwarder',
  parameters: { HomeRegion: 'us-east-1' },
};

export interface TemplateVariant {
  /** Shown in test names. */
  name: string;
  template: Template;
  deployment: Deployment;
  /** The logical id of the role the stack's principal acts with. */
  role: string;
}

const functionOptions = (playbooks: Playbook[], extra: Record<string, unknown> = {}) => ({
  playbooks,
  registry,
  ...extra,
});

/** The administrator (function) templates: shipped playbooks; with a member role and an organization; with a quarantine profile. */
export const functionVariants = (): TemplateVariant[] => [
  {
    name: 'shipped playbooks',
    template: buildTemplate(functionOptions(shippedPlaybooks)),
    deployment: DEPLOYMENT,
    role: 'RiposteRole',
  },
  {
    name: 'member role and organization',
    template: buildTemplate(functionOptions(shippedPlaybooks, { memberRoleName: MEMBER_ROLE })),
    deployment: ORGANIZATION_DEPLOYMENT,
    role: 'RiposteRole',
  },
  {
    name: 'quarantine profile',
    template: buildTemplate(functionOptions(quarantinePlaybooks, { memberRoleName: MEMBER_ROLE })),
    deployment: DEPLOYMENT,
    role: 'RiposteRole',
  },
];

/** The member and forwarder templates, once the deploy module builds them. */
export const otherVariants = (): TemplateVariant[] => [
  ...(buildMemberTemplate
    ? [
        {
          name: 'member account',
          template: buildMemberTemplate(functionOptions(shippedPlaybooks, { memberRoleName: MEMBER_ROLE })),
          deployment: MEMBER_DEPLOYMENT,
          role: 'MemberRole',
        },
      ]
    : []),
  ...(buildForwarderTemplate
    ? [
        {
          name: 'forwarder',
          template: buildForwarderTemplate(functionOptions(shippedPlaybooks, { homeRegion: 'us-east-1' })),
          deployment: FORWARDER_DEPLOYMENT,
          role: 'ForwarderRole',
        },
      ]
    : []),
];

export const allVariants = (): TemplateVariant[] => [...functionVariants(), ...otherVariants()];
