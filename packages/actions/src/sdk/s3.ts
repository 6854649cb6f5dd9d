// The S3 client and exactly the commands Riposte sends with it (see ./load.ts).
export {
  DeleteBucketTaggingCommand,
  DeletePublicAccessBlockCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  PutBucketTaggingCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
