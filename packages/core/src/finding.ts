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
  /** The version the finding is about (`functionVersion`, e.g. `$LATEST`). */
  version?: string;
  /** The execution role's ARN. */
  role?: string;
  /** The function's VPC, when it runs in one (`vpcConfig`). */
  vpcId?: string;
  subnetIds?: string[];
  securityGroups?: { groupId: string; groupName?: string }[];
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

/**
 * An Aurora DB cluster: the cluster an `rdsDbInstanceDetails` or `rdsLimitlessDbDetails` block names
 * (`dbClusterIdentifier`; its ARN built in the finding's account and region), or Security Hub's
 * `AwsRdsDbCluster` resource.
 */
export interface RdsClusterResource {
  kind: 'rds-cluster';
  dbClusterIdentifier: string;
  arn?: string;
  engine?: string;
  tags: Tags;
}

/** An Aurora PostgreSQL Limitless Database shard group (`rdsLimitlessDbDetails`). */
export interface RdsLimitlessDbResource {
  kind: 'rds-limitless-db';
  dbShardGroupIdentifier: string;
  dbShardGroupArn?: string;
  dbShardGroupResourceId?: string;
  dbClusterIdentifier?: string;
  engine?: string;
  engineVersion?: string;
  tags: Tags;
}

/**
 * The database user of an RDS login finding (`rdsDbUserDetails`). The DB it logged in to is the
 * finding's rds-instance or rds-limitless-db; its identifiers are repeated here.
 */
export interface RdsUserResource {
  kind: 'rds-user';
  user: string;
  application?: string;
  database?: string;
  /** The SSL/TLS version of the connection, as GuardDuty reports it (e.g. `TLSv1.2`). */
  ssl?: string;
  authMethod?: string;
  engine?: string;
  dbInstanceIdentifier?: string;
  dbClusterIdentifier?: string;
}

/** An S3 object a finding names (Malware Protection for S3, or an attack sequence). */
export interface S3ObjectResource {
  kind: 's3-object';
  bucket: string;
  key: string;
  /** `arn:aws:s3:::bucket/key`, when the finding gives it. */
  arn?: string;
  versionId?: string;
  eTag?: string;
  /** The object's SHA-256, when Malware Protection gives it. */
  hash?: string;
}

export interface EbsVolumeResource {
  kind: 'ebs-volume';
  volumeId?: string;
  volumeArn?: string;
  snapshotArn?: string;
  deviceName?: string;
  volumeType?: string;
  volumeSizeInGB?: number;
  encryptionType?: string;
  kmsKeyArn?: string;
}

/** An ECS task: `ecsClusterDetails.taskDetails`, an `ECS_TASK` of an attack sequence, or Security Hub's `AwsEcsTask`. */
export interface EcsTaskResource {
  kind: 'ecs-task';
  arn: string;
  clusterArn: string;
  definitionArn?: string;
  /** The task definition revision, as GuardDuty reports it. */
  version?: string;
  launchType?: string;
  startedAt?: string;
  startedBy?: string;
  group?: string;
  containers: { name?: string; image?: string; runtimeId?: string }[];
  tags: Tags;
}

/** A Kubernetes workload (`kubernetesDetails.kubernetesWorkloadDetails`). */
export interface KubernetesWorkloadResource {
  kind: 'kubernetes-workload';
  /** The EKS cluster, when the finding names one (`eksClusterDetails.name`). */
  clusterName?: string;
  namespace: string;
  name: string;
  /** Pod, Deployment, DaemonSet, ReplicaSet, StatefulSet, Job, CronJob, ... */
  type: string;
  uid?: string;
  /** The workload's labels. GuardDuty's finding format carries none today, so this is usually empty. */
  labels: Record<string, string>;
  serviceAccountName?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  containers: {
    name?: string;
    image?: string;
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
  }[];
  volumes: { name?: string; hostPath?: string }[];
}

/** The Kubernetes user of an EKS audit-log finding (`kubernetesDetails.kubernetesUserDetails`). */
export interface KubernetesUserResource {
  kind: 'kubernetes-user';
  clusterName?: string;
  username: string;
  uid?: string;
  groups: string[];
  /** The IAM role session names behind the user, when it is an IAM principal. */
  sessionName?: string[];
  /** The user it impersonated, when it did. */
  impersonatedUser?: { username: string; groups: string[] };
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
  | TrailResource
  | EcsTaskResource
  | KubernetesWorkloadResource
  | KubernetesUserResource
  | RdsClusterResource
  | RdsLimitlessDbResource
  | RdsUserResource
  | S3ObjectResource;

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
  'ecs-task',
  'kubernetes-workload',
  'kubernetes-user',
  'rds-cluster',
  'rds-limitless-db',
  'rds-user',
  's3-object',
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
  /**
   * Every remote IP address the finding names, each once: the action's (every port probe, every
   * Kubernetes source IP), the attack sequence's endpoints and its MALICIOUS_IP, CRYPTOMINING_IP and
   * TOR_IP indicators. Only syntactically valid IPv4/IPv6 addresses. Set whenever there is one;
   * `remoteIp` is the action's own address, or the first of these when the action names none.
   */
  remoteIps?: string[];
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

/**
 * How central a technique (or tactic) is to a finding. `primary`: what the finding is about, by its
 * threat purpose or its own indicators; `related`: what the CTID mapping also ties to the type (for
 * `Exfiltration:S3/MaliciousIPCaller`, T1567 is primary and T1562.008 related). The matcher's
 * `techniques` and `tactics` consider primary ones unless a block says `relatedTechniques: true`.
 * The rule is in attack/relation.ts.
 */
export type AttackRelation = 'primary' | 'related';

export interface Technique {
  /** e.g. T1078.004 */
  id: string;
  name: string;
  tactics: Tactic[];
  /** Where the mapping came from: the CTID table, or the finding's own attack-sequence indicators. */
  source: 'ctid' | 'indicator';
  relation: AttackRelation;
}

/**
 * A tactic of a finding: primary when its threat purpose or its indicators name it or a primary
 * technique belongs to it; related when only related techniques bring it.
 */
export interface FindingTactic extends Tactic {
  relation: AttackRelation;
}

/** A process as Runtime Monitoring reports it (`runtimeDetails.process`, or one of its lineage). */
export interface RuntimeProcess {
  name?: string;
  executablePath?: string;
  executableSha256?: string;
  /** The process id in the host's namespace, and in the container's. */
  pid?: number;
  namespacePid?: number;
  /** The user the process runs as (a name) and its ids. */
  user?: string;
  userId?: number;
  euid?: number;
  /** The working directory. */
  pwd?: string;
  startTime?: string;
  uuid?: string;
  parentUuid?: string;
  /** The ancestors, nearest first, as the finding gives them. */
  lineage: RuntimeAncestor[];
}

export interface RuntimeAncestor {
  name?: string;
  executablePath?: string;
  pid?: number;
  namespacePid?: number;
  userId?: number;
  euid?: number;
  startTime?: string;
  uuid?: string;
  parentUuid?: string;
}

/** A process the runtime context names (the one that modified a file, or the target of an injection). */
export type RuntimeContextProcess = Omit<RuntimeProcess, 'lineage'> & { lineage?: RuntimeAncestor[] };

/**
 * What Runtime Monitoring saw around the event (`runtimeDetails.context`). Only the fields GuardDuty's
 * `RuntimeContext` documents are lifted; the rest stay in `raw`. The context names no IP address:
 * the addresses a finding names are in `actor.remoteIps`.
 */
export interface RuntimeContext {
  modifyingProcess?: RuntimeContextProcess;
  targetProcess?: RuntimeContextProcess;
  modifiedAt?: string;
  scriptPath?: string;
  libraryPath?: string;
  ldPreloadValue?: string;
  socketPath?: string;
  runcBinaryPath?: string;
  releaseAgentPath?: string;
  mountSource?: string;
  mountTarget?: string;
  fileSystemType?: string;
  flags?: string[];
  moduleName?: string;
  moduleFilePath?: string;
  moduleSha256?: string;
  shellHistoryFilePath?: string;
  addressFamily?: string;
  ianaProtocolNumber?: number;
  memoryRegions?: string[];
  toolName?: string;
  toolCategory?: string;
  serviceName?: string;
  commandLineExample?: string;
  threatFilePath?: string;
  /** The file operation (e.g. `CREATE`, `MODIFY`), the file it touched, and the files related to it. */
  fileOperation?: string;
  filePath?: string;
  relatedFilePaths?: string[];
}

/** One signal of an attack sequence: a finding, an API call or another event GuardDuty correlated. */
export interface AttackSequenceSignal {
  uid: string;
  /** FINDING, CLOUD_TRAIL, S3_DATA_EVENTS, ... */
  type: string;
  name?: string;
  description?: string;
  createdAt?: string;
  updatedAt?: string;
  firstSeenAt?: string;
  lastSeenAt?: string;
  count?: number;
  severity?: number;
  /**
   * The ATT&CK technique ids of this signal (its `ATTACK_TECHNIQUE` indicator), e.g. T1526. Values
   * named without an id are looked up in the CTID mapping; names it does not hold are left out.
   */
  techniques: string[];
  /** The ATT&CK tactic ids of this signal (its `ATTACK_TACTIC` indicator), e.g. TA0007. */
  tactics: string[];
  actorIds?: string[];
  resourceUids?: string[];
  endpointIds?: string[];
}

export interface AttackSequenceActor {
  id: string;
  user?: { name?: string; uid?: string; type?: string; credentialUid?: string; account?: string };
  session?: { uid?: string; mfaStatus?: string; createdTime?: string; issuer?: string };
  process?: { name?: string; path?: string; sha256?: string };
}

export interface AttackSequenceEndpoint {
  id: string;
  ip?: string;
  domain?: string;
  port?: number;
  location?: { city?: string; country?: string; lat?: number; lon?: number };
  autonomousSystem?: { name?: string; number?: number };
  direction?: string;
}

/** An Extended Threat Detection finding's sequence (`service.detection.sequence`). */
export interface AttackSequence {
  uid: string;
  description?: string;
  signals: AttackSequenceSignal[];
  actors: AttackSequenceActor[];
  endpoints: AttackSequenceEndpoint[];
  /** The sequence's indicators (`sequenceIndicators`): ATT&CK techniques and tactics, domains, ... */
  indicators: { key: string; values: string[]; title?: string }[];
  /** The resources of the sequence, as GuardDuty lists them (type and uid); the normalized ones are in `resources`. */
  resources: { uid: string; type?: string; name?: string; accountId?: string; region?: string }[];
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
  /** The process a Runtime Monitoring finding is about (`runtimeDetails.process`). */
  process?: RuntimeProcess;
  /** What Runtime Monitoring saw around the event (`runtimeDetails.context`). */
  runtimeContext?: RuntimeContext;
  /** The attack sequence of an Extended Threat Detection finding (`AttackSequence:*`). */
  sequence?: AttackSequence;
  techniques: Technique[];
  tactics: FindingTactic[];
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
