import * as cloudtrail from './cloudtrail.js';
import * as ec2 from './ec2.js';
import * as ecs from './ecs.js';
import * as eks from './eks.js';
import * as guardduty from './guardduty.js';
import * as iam from './iam.js';
import * as lambda from './lambda.js';
import type { sdk as lazy } from './load.js';
import * as organizations from './organizations.js';
import * as rds from './rds.js';
import * as s3 from './s3.js';
import * as securityhub from './securityhub.js';
import * as sns from './sns.js';
import * as sts from './sts.js';
import * as wafv2 from './wafv2.js';

/**
 * `./load.js` as the Lambda bundle has it (`riposte build` resolves that module to this one): the same
 * modules, imported statically, so esbuild keeps only the commands they name. Inside one parsed file,
 * loading on first use would save nothing.
 */
export const sdk: typeof lazy = {
  cloudtrail: async () => cloudtrail,
  ec2: async () => ec2,
  ecs: async () => ecs,
  eks: async () => eks,
  guardduty: async () => guardduty,
  iam: async () => iam,
  lambda: async () => lambda,
  organizations: async () => organizations,
  rds: async () => rds,
  s3: async () => s3,
  securityhub: async () => securityhub,
  sns: async () => sns,
  sts: async () => sts,
  wafv2: async () => wafv2,
};
