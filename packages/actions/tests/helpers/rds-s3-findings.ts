import type { Finding } from '@riposte/core';
import { commandAndControl } from './findings.js';

/*
 * Normalized RDS and Malware Protection for S3 findings, lifted by hand (the normalizer of these kinds
 * is written in parallel). The RDS login is
 * /work/shared/data/findings/elastic-integrations/20-credentialaccess-rds-anomalousbehavior-successfullogin.json
 * (its id, type, severity and times); its `GeneratedFinding…` placeholders are replaced by realistic
 * values (DB orders-db, user app_rw, PostgreSQL). The S3 object finding follows the shape GuardDuty
 * documents for `Object:S3/MaliciousFile` (s3BucketDetails[].s3ObjectDetails).
 */

export const DB_ID = 'orders-db';
export const CLUSTER_ID = 'orders-aurora';
export const DB_USER = 'app_rw';
export const OBJECT_BUCKET = 'acme-uploads';
export const OBJECT_KEY = 'incoming/invoice-2024-03.pdf.exe';
export const QUARANTINE_BUCKET = 'acme-quarantine';

const base = (): Finding => commandAndControl();

/** 20-credentialaccess-rds-anomalousbehavior-successfullogin.json, on a standalone PostgreSQL instance. */
export const rdsSuccessfulLogin = (
  options: { engine?: string; user?: string; cluster?: boolean } = {},
): Finding => {
  const finding = base();
  const engine = options.engine ?? 'postgres';
  return {
    ...finding,
    id: '5abcdefabcdefabcdef2a123456789f6',
    arn: `arn:aws:guardduty:${finding.region}:${finding.accountId}:detector/4ec22961e1defabcdefabcdef2a1234/finding/5abcdefabcdefabcdef2a123456789f6`,
    type: {
      name: 'CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin',
      threatPurpose: 'CredentialAccess',
      resourceType: 'RDS',
      threatFamily: 'AnomalousBehavior',
      detectionMechanism: 'SuccessfulLogin',
    },
    severity: 8,
    severityLabel: 'High',
    title: `Unusual successful login by ${options.user ?? DB_USER} observed on RDS instance ${DB_ID}.`,
    description: `Unusual successful login by ${options.user ?? DB_USER} observed on RDS instance ${DB_ID}.`,
    createdAt: '2022-12-07T10:28:35.948Z',
    updatedAt: '2022-12-07T10:28:35.948Z',
    resourceType: 'RDSDBInstance',
    resources: [
      {
        kind: 'rds-instance',
        dbInstanceIdentifier: DB_ID,
        arn: `arn:aws:rds:${finding.region}:${finding.accountId}:db:${DB_ID}`,
        engine,
        ...(options.cluster ? { dbClusterIdentifier: CLUSTER_ID } : {}),
        tags: {},
      },
      ...(options.cluster
        ? [{ kind: 'rds-cluster' as const, dbClusterIdentifier: CLUSTER_ID, engine, tags: {} }]
        : []),
      {
        kind: 'rds-user',
        user: options.user ?? DB_USER,
        application: 'psql',
        database: 'orders',
        ssl: 'TLSv1.3',
        authMethod: 'PASSWORD',
        dbInstanceIdentifier: DB_ID,
      },
    ],
    actor: { actionType: 'RDS_LOGIN_ATTEMPT', remoteIp: '175.16.199.1', country: 'China', city: 'Changchun' },
    techniques: [],
    tactics: [],
  };
};

/** `Object:S3/MaliciousFile`: a scanned upload found malicious, with its version and ETag. */
export const maliciousObject = (options: { versionId?: string } = {}): Finding => {
  const finding = base();
  return {
    ...finding,
    id: '8ec7f3c2b3a94f6aa2e1c0d9b8a7f6e5',
    type: {
      name: 'Object:S3/MaliciousFile',
      threatPurpose: 'Object',
      resourceType: 'S3',
      threatFamily: 'MaliciousFile',
    },
    severity: 8,
    severityLabel: 'High',
    title: 'A malicious file was uploaded to an S3 bucket.',
    resourceType: 'S3Object',
    resources: [
      {
        kind: 's3-bucket',
        name: OBJECT_BUCKET,
        arn: `arn:aws:s3:::${OBJECT_BUCKET}`,
        tags: {},
      },
      {
        kind: 's3-object',
        bucket: OBJECT_BUCKET,
        key: OBJECT_KEY,
        arn: `arn:aws:s3:::${OBJECT_BUCKET}/${OBJECT_KEY}`,
        ...(options.versionId === undefined ? {} : { versionId: options.versionId }),
        eTag: '"0cc175b9c0f1b6a831c399e269772661"',
        hash: '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f',
      },
    ],
    actor: undefined,
    techniques: [],
    tactics: [],
  } as Finding;
};
