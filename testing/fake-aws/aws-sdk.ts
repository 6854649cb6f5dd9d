import { createRequire } from 'node:module';

/**
 * The real AWS SDK v3 clients, as installed for @riposte/actions. `testing/` is not a workspace
 * package, so bare `@aws-sdk/*` specifiers do not resolve from here (and NodeNext refuses a relative
 * directory import); resolve them from the actions package instead and type them from its
 * declarations.
 */
const requireFromActions = createRequire(new URL('../../packages/actions/package.json', import.meta.url));

type Ec2Module = typeof import('../../packages/actions/node_modules/@aws-sdk/client-ec2/dist-types/index.js');
type IamModule = typeof import('../../packages/actions/node_modules/@aws-sdk/client-iam/dist-types/index.js');
type StsModule = typeof import('../../packages/actions/node_modules/@aws-sdk/client-sts/dist-types/index.js');
type SnsModule = typeof import('../../packages/actions/node_modules/@aws-sdk/client-sns/dist-types/index.js');
type CloudTrailModule =
  typeof import('../../packages/actions/node_modules/@aws-sdk/client-cloudtrail/dist-types/index.js');
type S3Module = typeof import('../../packages/actions/node_modules/@aws-sdk/client-s3/dist-types/index.js');
type GuardDutyModule =
  typeof import('../../packages/actions/node_modules/@aws-sdk/client-guardduty/dist-types/index.js');
type SecurityHubModule =
  typeof import('../../packages/actions/node_modules/@aws-sdk/client-securityhub/dist-types/index.js');
type OrganizationsModule =
  typeof import('../../packages/actions/node_modules/@aws-sdk/client-organizations/dist-types/index.js');

export const ec2 = requireFromActions('@aws-sdk/client-ec2') as Ec2Module;
type EksModule = typeof import('../../packages/actions/node_modules/@aws-sdk/client-eks/dist-types/index.js');
export const eks = requireFromActions('@aws-sdk/client-eks') as EksModule;
export const iam = requireFromActions('@aws-sdk/client-iam') as IamModule;
type LambdaModule =
  typeof import('../../packages/actions/node_modules/@aws-sdk/client-lambda/dist-types/index.js');
export const lambda = requireFromActions('@aws-sdk/client-lambda') as LambdaModule;
type EcsModule = typeof import('../../packages/actions/node_modules/@aws-sdk/client-ecs/dist-types/index.js');
export const ecs = requireFromActions('@aws-sdk/client-ecs') as EcsModule;
type RdsModule = typeof import('../../packages/actions/node_modules/@aws-sdk/client-rds/dist-types/index.js');
export const rds = requireFromActions('@aws-sdk/client-rds') as RdsModule;
export const sts = requireFromActions('@aws-sdk/client-sts') as StsModule;
export const sns = requireFromActions('@aws-sdk/client-sns') as SnsModule;
export const cloudtrail = requireFromActions('@aws-sdk/client-cloudtrail') as CloudTrailModule;
export const s3 = requireFromActions('@aws-sdk/client-s3') as S3Module;
export const guardduty = requireFromActions('@aws-sdk/client-guardduty') as GuardDutyModule;
export const organizations = requireFromActions('@aws-sdk/client-organizations') as OrganizationsModule;
export const securityhub = requireFromActions('@aws-sdk/client-securityhub') as SecurityHubModule;
type Wafv2Module =
  typeof import('../../packages/actions/node_modules/@aws-sdk/client-wafv2/dist-types/index.js');
export const wafv2 = requireFromActions('@aws-sdk/client-wafv2') as Wafv2Module;
