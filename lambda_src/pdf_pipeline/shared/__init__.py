"""What every pipeline worker shares: the S3 store, the SQS sender, the audit trail, the clock,
S3 event parsing and the Lambda host (Powertools). Only ``aws`` and ``lambda_host`` import
boto3 or Powertools; the rest is plain Python the logic modules can use."""
