"""Pure logic of the lifecycle: no boto3, no environment, no clock."""
