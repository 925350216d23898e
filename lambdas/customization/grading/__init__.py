"""Reinforcement fine-tuning's built-in grader: the rewards a request picks by kind
(`rewards`), served by the stack's grader function (`built_in`). The reward-function contract
every grader answers, built-in or a team's own, is `customization.models.grading`.

Bedrock gives the grader each sampled answer with the training record's own fields, so the
built-in grader learns its settings from a field the pipeline adds to every record of the
job's data (`GRADER_FIELD`); a team's own grader never sees it.
"""
