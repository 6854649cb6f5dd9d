/**
 * The normalized Finding: one shape for GuardDuty findings however they arrive (EventBridge event,
 * bare GuardDuty JSON, Security Hub ASFF). Everything downstream (matcher, planner, actions, report)
 * reads this model, never the raw input.
 *
 * `resources` lists only the resources the finding is about. GuardDuty sample findings carry
 * placeholder blocks (e.g. `instanceDetails` on an S3 finding); those are NOT resources of the finding.
 */

export type SeverityLabel = 'Low' | 'Medium' | 'High' | 'Critical';

export const SEVERITY_LABELS: readonly SeverityLabel[] = ['Low', 'Medium', 'High', 'Critical'];

/** Low < 4 <= Medium < 7 <= High < 9 <= Critical. */
export const severityLabel = (severity: number): SeverityLabel =>
  severity >= 9 ? 'Critical' : severity >= 7 ? 'High' : severity >= 4 ? 'Medium' : 'Low';

/**
 * The parts of a GuardDuty finding type:
 * `ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact`.
 * e.g. `Backdoor:EC2/C&CActivity.B!DNS` -> Backdoor, EC2, C&CActivity, B, DNS.
 */
export interface FindingType {
  name: string;
  threatPurpose: string;
  resourceType: string;
  threatFamily: string;
  detectionMechanism?: string;
  artifact?: string;
}

export type UserType =
  | 'IAMUser'
  | 'AssumedRole'
  | 'Root'
  | 'FederatedUser'
  | 'AWSService'
  | 'AWSAccount'
  | 'Role'
  | 'Unknown';

export type Tags = Record<string, string>;

export interface InstanceResource {
  kind: 'instance';
  instanceId: string;
  arn: string;
  instanceProfile?: { arn?: string; id?: string };
  tags: Tags;
  vpcId?: string;
  subnetId?: string;
  securityGroups: { groupId: string; groupName?: string }[];
  networkInterfaces: {
    networkInterfaceId: string;
    subnetId?: string;
    vpcId?: string;
    privateIpAddress?: string;
    publicIp?: string;
    securityGroups: { groupId: string; groupName?: string }[];
  }[];
  imageId?: string;
  instanceType?: string;
  availabilityZone?: string;
  state?: string;
  launchTime?: string;
  /** Why this instance is affected, e.g. 'resource' or 'credential-source' for InstanceCredentialExfiltration. */
  role: 'resource' | 'credential-source';
}

export interface AccessKeyResource {
  kind: 'access-key';
  accessKeyId?: string;
  principalId?: string;
  userType: UserType;
  userName?: string;
  /** For AssumedRole: the role's name (from userName, or the role part of principalId/ARN). */
  roleName?: string;
  /** The role session name, where the finding gives it. */
  sessionName?: string;
  /**
   * The principal's ARN when the finding gives the user name as one (`arn:aws:sts::...:assumed-role/R/S`),
   * kept so the scope check can refuse a principal of another partition or account: `roleName` alone
   * would be acted on in whatever account the response runs in.
   */
  principalArn?: string;
}

export interface S3BucketResource {
  kind: 's3-bucket';
  name: string;
  arn: string;
  ownerId?: string;
  createdAt?: string;
  type?: string;
  tags: Tags;
  /** The effective public-access verdict and block settings as GuardDuty evaluated them. */
  publicAccess?: {
    effectivePermission?: string;
    accountLevelBlock?: PublicAccessBlockFlags;
    bucketLevelBlock?: PublicAccessBlockFlags;
  };
  encryptionType?: string;
}

export interface PublicAccessBlockFlags {
  blockPublicAcls?: boolean;
  ignorePublicAcls?: boolean;
  blockPublicPolicy?: boolean;
  restrictPublicBuckets?: boolean;
}

export interface EksClusterResource {
  kind: 'eks-cluster';
  name: string;
  arn?: string;
  vpcId?: string;
  tags: Tags;
}

export interface EcsClusterResource {
  kind: 'ecs-cluster';
  name?: string;
  arn: string;
  taskArn?: string;
  taskDefinitionArn?: string;
  tags: Tags;
}

export interface ContainerResource {
  kind: 'container';
  id?: string;
  name?: string;
  image?: string;
  runtime?: string;
}

export interface LambdaFunctionResource {
  kind: 'lambda-function';
  name: string;
  arn?: string;
  role?: string;
  tags: Tags;
}

export interface RdsInstanceResource {
  kind: 'rds-instance';
  dbInstanceIdentifier: string;
  arn?: string;
  engine?: string;
  dbClusterIdentifier?: string;
  tags: Tags;
}

export interface EbsVolumeResource {
  kind: 'ebs-volume';
  volumeId?: string;
  volumeArn?: string;
  snapshotArn?: string;
  deviceName?: string;
}

/** A CloudTrail trail named by `service.action.awsApiCallAction.affectedResources`. */
export interface TrailResource {
  kind: 'cloudtrail-trail';
  name: string;
  arn?: string;
}

export type Resource =
  | InstanceResource
  | AccessKeyResource
  | S3BucketResource
  | EksClusterResource
  | EcsClusterResource
  | ContainerResource
  | LambdaFunctionResource
  | RdsInstanceResource
  | EbsVolumeResource
  | TrailResource;

export type ResourceKind = Resource['kind'];

export const RESOURCE_KINDS: readonly ResourceKind[] = [
  'instance',
  'access-key',
  's3-bucket',
  'eks-cluster',
  'ecs-cluster',
  'container',
  'lambda-function',
  'rds-instance',
  'ebs-volume',
  'cloudtrail-trail',
];

/** Who acted and from where, when the finding says. */
export interface Actor {
  actionType?: string;
  api?: string;
  serviceName?: string;
  callerType?: string;
  userAgent?: string;
  errorCode?: string;
  remoteIp?: string;
  country?: string;
  city?: string;
  asn?: string;
  asnOrg?: string;
  isp?: string;
  org?: string;
  domain?: string;
  localPort?: number;
  remotePort?: number;
  protocol?: string;
}

export interface Tactic {
  /** e.g. TA0010 */
  id: string;
  /** e.g. Exfiltration */
  name: string;
}

export interface Technique {
  /** e.g. T1078.004 */
  id: string;
  name: string;
  tactics: Tactic[];
  /** Where the mapping came from: the CTID table, or the finding's own attack-sequence indicators. */
  source: 'ctid' | 'indicator';
}

export type FindingSource = 'guardduty' | 'securityhub-asff';

export interface Finding {
  id: string;
  arn?: string;
  type: FindingType;
  severity: number;
  severityLabel: SeverityLabel;
  title?: string;
  description?: string;
  accountId: string;
  region: string;
  partition: string;
  createdAt?: string;
  updatedAt?: string;
  firstSeen?: string;
  lastSeen?: string;
  count: number;
  archived: boolean;
  sample: boolean;
  /** GuardDuty's `service.resourceRole`: TARGET or ACTOR. */
  resourceRole?: string;
  /** GuardDuty's `resource.resourceType` (or the ASFF resource type it came from). */
  resourceType: string;
  resources: Resource[];
  actor?: Actor;
  techniques: Technique[];
  tactics: Tactic[];
  source: FindingSource;
  /** The input finding, untouched (for conditions over fields the model does not lift). */
  raw: Record<string, unknown>;
}

/** All tags of all resources of the finding, by resource. */
export const resourceTags = (resource: Resource): Tags => ('tags' in resource ? resource.tags : {});

export const resourcesOfKind = <K extends ResourceKind>(
  finding: Finding,
  kind: K,
): Extract<Resource, { kind: K }>[] =>
  finding.resources.filter((resource): resource is Extract<Resource, { kind: K }> => resource.kind === kind);
