"""The evaluation: is the custom model better than its base model, and by how much?

One function per state, each in its own module:

- `plan.plan_evaluation` (Plan Evaluation): test records -> samples, in shards;
- `score.score_shards` (Score Samples / Score Shard): both models answer each sample;
- `second_engine.start_evaluation_job` / `check_evaluation_job`: Bedrock's own job, optional;
- `report.report_evaluation` (Report Evaluation): scores, intervals, the gate, report.json/html.

The pieces they share: `contracts` (the typed samples, answers, scores and report),
`metrics` (each metric once), `statistics` (means, bootstrap, verdict), `gate`, `curves`
(training losses), `inference` (concurrent Converse calls), `page` (report.html) and
`test_set` (the held-out split Validate Request makes).
"""
