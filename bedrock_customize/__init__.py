"""bedrock-customize: the command line and the offline engine (not part of the Lambda asset)."""
