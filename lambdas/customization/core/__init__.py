"""The run's lifecycle, one module per step or concern: Validate Request (`validate_request`,
with `request_rules`, `preflight`, `quotas`, `costs`, `hyperparameters`), Submit and Check Job
(`jobs`), Deploy and Check Deployment (`deployments`), Tear Down and the cleanups
(`teardown`, `janitor`), request files (`triggers`) and notices (`notify`).

Collaborators (the adapters) come in as parameters; no boto3, no environment, no clock.
The evaluation's steps are in `customization.evaluation`."""
