// The EKS client and exactly the commands Riposte sends with it (see ./load.ts).
export {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DisassociateAccessPolicyCommand,
  EKSClient,
  ListAssociatedAccessPoliciesCommand,
  UpdateClusterConfigCommand,
} from '@aws-sdk/client-eks';
