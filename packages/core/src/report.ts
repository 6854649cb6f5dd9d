import type { AwsCall, CallRecord, Lookup } from './action.js';
import type { Plan, PlannedStep, Report, StepReport } from './engine/types.js';
import type { Finding, Resource } from './finding.js';

/** How text is styled: the CLI passes a colouring function on a TTY, plain text otherwise. */
export type Style = (style: 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan', text: string) => string;

const plain: Style = (_style, text) => text;

/** One resource of a finding, as a person reads it in a plan, a report or a notification. */
export const describeResource = (resource: Resource): string => {
  switch (resource.kind) {
    case 'instance':
      return `EC2 instance ${resource.instanceId}${resource.role === 'credential-source' ? ' (credential source)' : ''}${resource.instanceProfile?.arn ? `, profile ${resource.instanceProfile.arn}` : ''}`;
    case 'access-key': {
      const who = resource.roleName ?? resource.userName ?? resource.principalId ?? 'unknown principal';
      return `access key ${resource.accessKeyId ?? '(no id)'} (${resource.userType}${who === resource.userType ? '' : ` ${who}`})`;
    }
    case 's3-bucket':
      return `S3 bucket ${resource.name}`;
    case 'cloudtrail-trail':
      return `CloudTrail trail ${resource.arn ?? resource.name}`;
    case 'eks-cluster':
      return `EKS cluster ${resource.name}`;
    case 'ecs-cluster':
      return `ECS cluster ${resource.name ?? resource.arn}`;
    case 'container':
      return `container ${resource.name ?? resource.id ?? '(unnamed)'}${resource.image ? ` (${resource.image})` : ''}`;
    case 'lambda-function':
      return `Lambda function ${resource.name}${resource.version ? `:${resource.version}` : ''}${resource.role ? `, role ${resource.role}` : ''}`;
    case 'rds-instance':
      return `RDS instance ${resource.dbInstanceIdentifier}${resource.engine ? ` (${resource.engine})` : ''}`;
    case 'rds-cluster':
      return `RDS cluster ${resource.dbClusterIdentifier}${resource.engine ? ` (${resource.engine})` : ''}`;
    case 'rds-limitless-db':
      return `RDS Limitless DB shard group ${resource.dbShardGroupIdentifier}${resource.dbClusterIdentifier ? ` of cluster ${resource.dbClusterIdentifier}` : ''}`;
    case 'rds-user': {
      const db = resource.dbInstanceIdentifier ?? resource.dbClusterIdentifier;
      return `database user ${resource.user}${resource.database ? ` on ${resource.database}` : ''}${db ? ` (${db})` : ''}${resource.application ? ` via ${resource.application}` : ''}`;
    }
    case 'ecs-task':
      return `ECS task ${resource.arn}${resource.launchType ? ` (${resource.launchType})` : ''}`;
    case 'kubernetes-workload':
      return `Kubernetes ${resource.type} ${resource.namespace}/${resource.name}${resource.clusterName ? ` in ${resource.clusterName}` : ''}`;
    case 'kubernetes-user':
      return `Kubernetes user ${resource.username}${resource.groups.length > 0 ? ` (${resource.groups.join(', ')})` : ''}`;
    case 's3-object':
      return `S3 object s3://${resource.bucket}/${resource.key}${resource.versionId ? ` version ${resource.versionId}` : ''}`;
    case 'ebs-volume':
      return `EBS volume ${resource.volumeId ?? resource.volumeArn ?? (resource.snapshotArn ? `of snapshot ${resource.snapshotArn}` : '(unknown)')}`;
  }
};

export const formatFindingHeader = (finding: Finding, style: Style = plain): string[] => {
  const lines = [
    `${style('bold', finding.type.name)}  ${finding.severityLabel} (${finding.severity})  ${finding.accountId} ${finding.region}${finding.sample ? style('yellow', '  [sample]') : ''}`,
    style('dim', `  finding ${finding.id}`),
  ];
  for (const resource of finding.resources) lines.push(`  - ${describeResource(resource)}`);
  if (finding.actor?.remoteIp) {
    const others = (finding.actor.remoteIps ?? []).filter((ip) => ip !== finding.actor?.remoteIp);
    lines.push(
      `  actor ${finding.actor.remoteIp}${finding.actor.country ? ` (${finding.actor.country})` : ''}${finding.actor.api ? ` calling ${finding.actor.api}` : ''}${others.length > 0 ? `; also ${others.join(', ')}` : ''}`,
    );
  }
  const process = finding.process;
  if (process) {
    const parent = process.lineage[0]?.name;
    lines.push(
      `  process ${process.name ?? '(unnamed)'}${process.executablePath ? ` ${process.executablePath}` : ''}${process.pid === undefined ? '' : ` pid ${process.pid}`}${process.user ? ` as ${process.user}` : ''}${parent ? `, parent ${parent}` : ''}`,
    );
  }
  const sequence = finding.sequence;
  if (sequence) {
    lines.push(
      `  attack sequence ${sequence.uid}: ${sequence.signals.length} signals, ${sequence.actors.length} actors, ${sequence.endpoints.length} endpoints, ${sequence.resources.length} resources`,
    );
  }
  if (finding.techniques.length > 0) {
    lines.push(
      `  ATT&CK ${finding.techniques.map((technique) => `${technique.id} ${technique.name}`).join('; ')}`,
    );
  }
  return lines;
};

const inline = (input: Record<string, unknown>): string => {
  const text = JSON.stringify(input);
  return text.length > 240 ? `${text.slice(0, 237)}...` : text;
};

const formatCall = (call: AwsCall | CallRecord, verb: string): string => {
  const record = call as Partial<CallRecord>;
  const outcome = [
    record.requestId ? `request ${record.requestId}` : '',
    record.errorCode ? `error ${record.errorCode}` : '',
  ].filter(Boolean);
  return `${verb} ${call.service} ${call.operation} ${inline(call.input)}${outcome.length > 0 ? `  (${outcome.join(', ')})` : ''}`;
};

const formatLookup = (lookup: Lookup): string =>
  lookup.status === 'done'
    ? `looked up ${lookup.call.service} ${lookup.call.operation}: ${lookup.summary}`
    : lookup.status === 'unavailable'
      ? lookup.summary
      : `lookup ${lookup.call.operation} failed: ${lookup.summary}`;

const statusStyle = (status: string): Parameters<Style>[0] =>
  status === 'failed' || status === 'refused'
    ? 'red'
    : status === 'applied'
      ? 'green'
      : status === 'dry-run' || status === 'planned'
        ? 'cyan'
        : 'yellow';

const stepLines = (
  index: number,
  head: { status: string; action: string; target?: string; reason?: string; mode: string },
  lookups: Lookup[],
  calls: AwsCall[],
  verb: string,
  style: Style,
): string[] => [
  `  ${index}. ${style(statusStyle(head.status), `[${head.status}]`)} ${style('bold', head.action)} ${head.target ?? ''}`.trimEnd(),
  ...lookups.map((lookup) => style('dim', `       ${formatLookup(lookup)}`)),
  ...calls.map((call) => `       ${formatCall(call, verb)}`),
  ...(head.reason ? [style('dim', `       ${head.reason}`)] : []),
];

/** The plan as a person reads it: per playbook, each step with the calls it would make. */
export const formatPlan = (plan: Plan, style: Style = plain): string => {
  const lines = formatFindingHeader(plan.finding, style);
  if (plan.matches.length === 0) {
    lines.push(style('dim', '  no playbook matches'));
    return lines.join('\n');
  }
  for (const match of plan.matches) {
    lines.push(`  playbook ${style('bold', match.playbook)} (${match.mode})`);
    lines.push(
      style('dim', `    matched on ${match.criteria.map((criterion) => criterion.criterion).join(', ')}`),
    );
    const steps = plan.steps.filter((step) => step.playbook === match.playbook);
    steps.forEach((step: PlannedStep, index) => {
      lines.push(
        ...stepLines(
          index + 1,
          {
            status: step.plan.status,
            action: step.action,
            ...(step.target ? { target: step.target.label } : {}),
            ...(step.plan.reason || step.approval
              ? {
                  reason: [step.plan.reason, step.approval ? 'needs approval when enforced' : undefined]
                    .filter(Boolean)
                    .join('; '),
                }
              : {}),
            mode: step.mode,
          },
          step.plan.lookups,
          step.plan.calls,
          'would call',
          style,
        ).map((line) => `  ${line}`),
      );
    });
  }
  return lines.join('\n');
};

/** The report as a person reads it: each step with its status, calls and request ids. */
export const formatReport = (report: Report, style: Style = plain): string => {
  const lines = [
    `${style('bold', report.findingType)} ${report.findingId} ${report.accountId} ${report.region}: ${report.outcome} (${report.mode}, ${report.durationMs} ms)`,
  ];
  for (const match of report.matched) {
    lines.push(`  playbook ${style('bold', match.playbook)} (${match.mode})`);
    report.steps
      .filter((step) => step.playbook === match.playbook)
      .forEach((step: StepReport, index) => {
        const verb = step.status === 'dry-run' ? 'would call' : 'called';
        lines.push(
          ...stepLines(
            index + 1,
            {
              status: step.status,
              action: step.action,
              ...(step.target ? { target: step.target.label } : {}),
              ...(step.reason
                ? { reason: step.reason }
                : step.error
                  ? { reason: `${step.error.code}: ${step.error.message}` }
                  : {}),
              mode: step.mode,
            },
            step.lookups,
            step.calls,
            verb,
            style,
          ).map((line) => `  ${line}`),
        );
      });
  }
  return lines.join('\n');
};
