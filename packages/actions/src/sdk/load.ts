/**
 * The AWS SDK as Riposte uses it: one module per service (`./ec2.js`, ...), each re-exporting the
 * service's client class and exactly the commands Riposte sends with it. A module is imported the
 * first time a call needs it, so a CLI run or a library user that only notifies never loads the EC2
 * client.
 *
 * The Lambda bundle keeps these imports: esbuild splits each service's module into its own chunk,
 * loaded when its first call is sent.
 */
export const sdk = {
  cloudtrail: () => import('./cloudtrail.js'),
  ec2: () => import('./ec2.js'),
  ecs: () => import('./ecs.js'),
  eks: () => import('./eks.js'),
  guardduty: () => import('./guardduty.js'),
  iam: () => import('./iam.js'),
  lambda: () => import('./lambda.js'),
  organizations: () => import('./organizations.js'),
  rds: () => import('./rds.js'),
  s3: () => import('./s3.js'),
  securityhub: () => import('./securityhub.js'),
  sns: () => import('./sns.js'),
  sts: () => import('./sts.js'),
  wafv2: () => import('./wafv2.js'),
};

/** Each service's module, as `sdk` loads it. */
export type SdkModules = { [K in keyof typeof sdk]: Awaited<ReturnType<(typeof sdk)[K]>> };
