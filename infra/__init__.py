"""The CDK app: one stack (the deployment unit) composed of constructs (the components)."""
