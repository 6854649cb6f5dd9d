// The Python baseline's work (../naive_responder.py) on Node.js with the AWS SDK v3, as a cold-start
// reference: what the runtime and the SDK cost before any of Riposte's own code runs. The bench bundles
// it the way `riposte build` bundles the function. Like the baseline, it ignores the finding: it is a
// yardstick, never a responder to deploy.
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { PutPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';

const HARD_CODED_BUCKET = 'acme-customer-exports';

export const handler = async (event) => {
  const ec2 = new EC2Client({});
  // As Riposte's client factory does: an endpoint override (fake-aws) cannot take bucket subdomains.
  const s3 = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) });
  const disassociated = [];
  const { IamInstanceProfileAssociations = [] } = await ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({}),
  );
  for (const { AssociationId } of IamInstanceProfileAssociations) {
    await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId }));
    disassociated.push(AssociationId);
  }
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: HARD_CODED_BUCKET,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      },
    }),
  );
  return { finding: event.detail?.id, disassociated };
};
