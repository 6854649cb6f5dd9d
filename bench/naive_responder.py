"""The naive GuardDuty response Lambda that inspired Riposte, as a cold-start baseline.

It ignores what the finding says: it detaches the instance profile from EVERY instance in the region
and blocks public access on one hard-coded bucket. The bench runs it against the same local endpoint
as Riposte's handler (AWS_ENDPOINT_URL), in a fresh interpreter, and reads its wall time and peak RSS.
Prints one JSON line: {"handleMs", "importMs", "disassociated", "peakRssKb"}.
"""

import json
import resource
import sys
import time

started = time.perf_counter()
import boto3  # noqa: E402  (the import is part of what a cold start pays)

imported = time.perf_counter()

HARD_CODED_BUCKET = "acme-customer-exports"


def lambda_handler(event, _context):
    ec2 = boto3.client("ec2")
    s3 = boto3.client("s3")
    disassociated = []
    associations = ec2.describe_iam_instance_profile_associations()["IamInstanceProfileAssociations"]
    for association in associations:
        ec2.disassociate_iam_instance_profile(AssociationId=association["AssociationId"])
        disassociated.append(association["AssociationId"])
    s3.put_public_access_block(
        Bucket=HARD_CODED_BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    return {"finding": event.get("detail", {}).get("id"), "disassociated": disassociated}


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        result = lambda_handler(json.load(handle), None)
    finished = time.perf_counter()
    print(
        json.dumps(
            {
                "importMs": (imported - started) * 1000,
                "handleMs": (finished - imported) * 1000,
                "disassociated": result["disassociated"],
                # Linux reports ru_maxrss in kilobytes.
                "peakRssKb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )
