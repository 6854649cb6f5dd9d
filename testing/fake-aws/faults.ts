import { AwsFault, FakeAwsError } from './errors.js';

export type FakeService =
  | 'EC2'
  | 'IAM'
  | 'STS'
  | 'SNS'
  | 'CloudTrail'
  | 'S3'
  | 'GuardDuty'
  | 'SecurityHub'
  | 'Organizations'
  | 'EKS'
  | 'Lambda'
  | 'ECS'
  | 'RDS'
  | 'WAFV2'
  | 'Webhook'
  | 'Unknown';

export type FaultKind = 'throttle' | 'slowdown' | 'error500' | 'timeout' | 'accessDenied' | 'notFound';

export interface FaultRule {
  /** Omitted: any service. */
  service?: FakeService;
  /** Omitted: any operation of the service. */
  operation?: string;
  /** How many matching requests fail; omitted: every one until `clearFaults()`. */
  times?: number;
  kind: FaultKind;
  /** Replaces the error code the kind would send (the status stays the kind's). */
  code?: string;
}

export interface CallTarget {
  service: FakeService;
  operation: string;
}

const FAULT_KINDS: readonly FaultKind[] = [
  'throttle',
  'slowdown',
  'error500',
  'timeout',
  'accessDenied',
  'notFound',
];

type ErrorSpec = [code: string, status: number, message: string, fields?: Record<string, string>];

/** GuardDuty answers a detector of another account with BadRequestException, its body typed InvalidInputException. */
export const GUARDDUTY_DETECTOR_NOT_OWNED =
  'The request is rejected because the input detectorId is not owned by the current account.';

const EC2_NOT_FOUND: Record<string, string> = {
  DescribeInstances: 'InvalidInstanceID.NotFound',
  AssociateIamInstanceProfile: 'InvalidInstanceID.NotFound',
  CreateSnapshots: 'InvalidInstanceID.NotFound',
  DescribeIamInstanceProfileAssociations: 'InvalidAssociationID.NotFound',
  DisassociateIamInstanceProfile: 'InvalidAssociationID.NotFound',
  ReplaceIamInstanceProfileAssociation: 'InvalidAssociationID.NotFound',
  DescribeSecurityGroups: 'InvalidGroup.NotFound',
  RevokeSecurityGroupEgress: 'InvalidGroup.NotFound',
  ModifyNetworkInterfaceAttribute: 'InvalidNetworkInterfaceID.NotFound',
  DescribeSnapshots: 'InvalidSnapshot.NotFound',
  CreateSecurityGroup: 'InvalidVpcID.NotFound',
  DeleteSecurityGroup: 'InvalidGroup.NotFound',
  DescribeNetworkInterfaces: 'InvalidNetworkInterfaceID.NotFound',
  DescribeNetworkAcls: 'InvalidNetworkAclID.NotFound',
  CreateNetworkAclEntry: 'InvalidNetworkAclID.NotFound',
  DeleteNetworkAclEntry: 'InvalidNetworkAclEntry.NotFound',
};

/** The error each service really sends for each kind of fault. */
const errorFor = (kind: Exclude<FaultKind, 'timeout'>, { service, operation }: CallTarget): ErrorSpec => {
  switch (service) {
    case 'EC2':
      return {
        throttle: ['RequestLimitExceeded', 503, 'Request limit exceeded.'],
        slowdown: ['Unavailable', 503, 'The server is overloaded and cannot handle the request.'],
        error500: ['InternalError', 500, 'An internal error has occurred.'],
        accessDenied: ['UnauthorizedOperation', 403, 'You are not authorized to perform this operation.'],
        notFound: [EC2_NOT_FOUND[operation] ?? 'InvalidParameterValue', 400, 'The resource does not exist.'],
      }[kind] as ErrorSpec;
    case 'IAM':
    case 'STS':
    case 'SNS':
      return {
        throttle: ['Throttling', 400, 'Rate exceeded'],
        slowdown: ['ServiceUnavailable', 503, 'Service is unavailable. Please try again later.'],
        error500: [
          service === 'IAM' ? 'ServiceFailure' : service === 'SNS' ? 'InternalError' : 'InternalFailure',
          500,
          'The request processing has failed because of an unknown error.',
        ],
        accessDenied: [
          service === 'SNS' ? 'AuthorizationError' : 'AccessDenied',
          403,
          `User is not authorized to perform: ${service.toLowerCase()}:${operation}`,
        ],
        notFound:
          service === 'SNS'
            ? ['NotFound', 404, 'Topic does not exist']
            : ['NoSuchEntity', 404, 'The entity cannot be found.'],
      }[kind] as ErrorSpec;
    case 'CloudTrail':
      return {
        throttle: ['ThrottlingException', 400, 'Rate exceeded'],
        slowdown: ['ServiceUnavailableException', 503, 'Service is unavailable.'],
        error500: ['InternalFailure', 500, 'The request processing has failed because of an unknown error.'],
        accessDenied: [
          'AccessDeniedException',
          400,
          `User is not authorized to perform: cloudtrail:${operation}`,
        ],
        notFound: ['TrailNotFoundException', 400, 'Unknown trail.'],
      }[kind] as ErrorSpec;
    case 'GuardDuty':
      return {
        throttle: ['TooManyRequestsException', 429, 'Rate exceeded'],
        slowdown: ['ServiceUnavailableException', 503, 'Service Unavailable'],
        error500: ['InternalServerErrorException', 500, 'Internal server error'],
        accessDenied: [
          'AccessDeniedException',
          403,
          `User is not authorized to perform: guardduty:${operation}`,
        ],
        notFound: [
          'BadRequestException',
          400,
          GUARDDUTY_DETECTOR_NOT_OWNED,
          { __type: 'InvalidInputException' },
        ],
      }[kind] as ErrorSpec;
    case 'EKS':
      return {
        throttle: ['ThrottlingException', 429, 'Rate exceeded'],
        slowdown: ['ServiceUnavailableException', 503, 'Service Unavailable'],
        error500: ['ServerException', 500, 'Internal service failure'],
        accessDenied: ['AccessDeniedException', 403, `User is not authorized to perform: eks:${operation}`],
        notFound: ['ResourceNotFoundException', 404, 'The requested resource was not found'],
      }[kind] as ErrorSpec;
    case 'Lambda':
      return {
        throttle: ['TooManyRequestsException', 429, 'Rate exceeded'],
        slowdown: ['ServiceException', 503, 'Service Unavailable'],
        error500: ['ServiceException', 500, 'Internal service failure'],
        accessDenied: [
          'AccessDeniedException',
          403,
          `User is not authorized to perform: lambda:${operation}`,
        ],
        notFound: ['ResourceNotFoundException', 404, 'Function not found'],
      }[kind] as ErrorSpec;
    case 'ECS':
      return {
        throttle: ['ThrottlingException', 400, 'Rate exceeded'],
        slowdown: ['ServerException', 503, 'Service Unavailable'],
        error500: ['ServerException', 500, 'Service Unavailable'],
        accessDenied: ['AccessDeniedException', 400, `User is not authorized to perform: ecs:${operation}`],
        notFound: ['InvalidParameterException', 400, 'The specified task is not found.'],
      }[kind] as ErrorSpec;
    case 'SecurityHub':
      // Security Hub throttles with LimitExceededException (429); its errors carry Code and Message.
      return {
        throttle: ['LimitExceededException', 429, 'Rate exceeded'],
        slowdown: ['ServiceUnavailableException', 503, 'Service Unavailable'],
        error500: ['InternalException', 500, 'Internal service failure'],
        accessDenied: [
          'AccessDeniedException',
          403,
          `User is not authorized to perform: securityhub:${operation}`,
        ],
        notFound: ['ResourceNotFoundException', 404, 'The requested resource was not found'],
      }[kind] as ErrorSpec;
    case 'Organizations':
      return {
        throttle: [
          'TooManyRequestsException',
          400,
          'You have sent too many requests in too short a period of time. The quota helps protect against denial-of-service attacks. Try again later.',
        ],
        slowdown: [
          'ServiceException',
          503,
          "AWS Organizations can't complete your request because of an internal service error. Try again later.",
        ],
        error500: [
          'ServiceException',
          500,
          "AWS Organizations can't complete your request because of an internal service error. Try again later.",
        ],
        accessDenied: ['AccessDeniedException', 400, "You don't have permissions to access this resource."],
        notFound: ['AccountNotFoundException', 400, "You specified an account that doesn't exist."],
      }[kind] as ErrorSpec;
    case 'WAFV2':
      // WAF's model has no throttling error; throttles arrive as the generic ThrottlingException.
      return {
        throttle: ['ThrottlingException', 400, 'Rate exceeded'],
        slowdown: ['ServiceUnavailableException', 503, 'Service Unavailable'],
        error500: [
          'WAFInternalErrorException',
          500,
          'AWS WAF couldn’t perform the operation because of a system problem. Retry your request.',
        ],
        accessDenied: ['AccessDeniedException', 400, `User is not authorized to perform: wafv2:${operation}`],
        notFound: [
          'WAFNonexistentItemException',
          400,
          'AWS WAF couldn’t perform the operation because your resource doesn’t exist.',
        ],
      }[kind] as ErrorSpec;
    case 'RDS':
      return {
        throttle: ['Throttling', 400, 'Rate exceeded'],
        slowdown: ['ServiceUnavailable', 503, 'Service is unavailable. Please try again later.'],
        error500: ['InternalFailure', 500, 'The request processing has failed because of an unknown error.'],
        accessDenied: ['AccessDenied', 403, `User is not authorized to perform: rds:${operation}`],
        notFound: /Cluster/.test(operation)
          ? ['DBClusterNotFoundFault', 404, 'DBCluster not found.']
          : ['DBInstanceNotFound', 404, 'DBInstance not found.'],
      }[kind] as ErrorSpec;
    case 'S3':
      return {
        throttle: ['SlowDown', 503, 'Please reduce your request rate.'],
        slowdown: ['SlowDown', 503, 'Please reduce your request rate.'],
        error500: ['InternalError', 500, 'We encountered an internal error. Please try again.'],
        accessDenied: ['AccessDenied', 403, 'Access Denied'],
        notFound: ['NoSuchBucket', 404, 'The specified bucket does not exist'],
      }[kind] as ErrorSpec;
    default:
      return {
        throttle: ['rate_limited', 429, 'rate_limited'],
        slowdown: ['service_unavailable', 503, 'service_unavailable'],
        error500: ['internal_error', 500, 'internal_error'],
        accessDenied: ['invalid_token', 403, 'invalid_token'],
        notFound: ['no_service', 404, 'no_service'],
      }[kind] as ErrorSpec;
  }
};

export const faultError = (
  kind: Exclude<FaultKind, 'timeout'>,
  target: CallTarget,
  code?: string,
): AwsFault => {
  const [defaultCode, status, message, fields] = errorFor(kind, target);
  return new AwsFault(code ?? defaultCode, message, status, code === undefined ? fields : undefined);
};

/** Pending fault rules, consumed in the order they were added. */
export class FaultQueue {
  private rules: FaultRule[] = [];

  add(rule: FaultRule): void {
    if (!FAULT_KINDS.includes(rule.kind)) {
      throw new FakeAwsError('FAULT_INVALID', `unknown fault kind ${String(rule.kind)}`, { rule });
    }
    if (rule.times !== undefined && (!Number.isInteger(rule.times) || rule.times < 1)) {
      throw new FakeAwsError('FAULT_INVALID', 'fault times must be a positive integer', { rule });
    }
    this.rules.push({ ...rule });
  }

  clear(): void {
    this.rules = [];
  }

  /** The first rule matching the call, counted as used; undefined when the call should succeed. */
  take(target: CallTarget): FaultRule | undefined {
    const rule = this.rules.find(
      (candidate) =>
        (candidate.service === undefined || candidate.service === target.service) &&
        (candidate.operation === undefined || candidate.operation === target.operation),
    );
    if (rule?.times !== undefined) {
      rule.times -= 1;
      if (rule.times === 0) this.rules = this.rules.filter((candidate) => candidate !== rule);
    }
    return rule;
  }
}
