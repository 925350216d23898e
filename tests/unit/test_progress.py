"""`bedrock-customize watch`: what it reads from an execution's history and how it shows it."""

import json

from bedrock_customize.deployed import Progress, progress_of
from infra import constants as c


def entered(event_id, name):
    return {"id": event_id, "stateEnteredEventDetails": {"name": name}}


def exited(event_id, name, output):
    return {"id": event_id, "stateExitedEventDetails": {"name": name, "output": json.dumps(output)}}


HISTORY = [
    entered(1, c.VALIDATE_REQUEST),
    entered(2, c.SUBMIT_JOB), exited(3, c.SUBMIT_JOB, {"job": {"status": "InProgress"}}),
    entered(4, c.WAIT_FOR_JOB), entered(5, c.CHECK_JOB), exited(6, c.CHECK_JOB, {"job": {"status": "Completed"}}),
    entered(7, c.DEPLOY_MODEL), exited(8, c.DEPLOY_MODEL, {"deployment": {"status": "Creating"}}),
    entered(9, c.WAIT_FOR_DEPLOYMENT),
]


def test_the_newest_state_and_statuses_win_in_either_order():
    expected = Progress(state=c.WAIT_FOR_DEPLOYMENT, phase=2, job="Completed", deployment="Creating")
    assert progress_of(HISTORY) == expected
    assert progress_of(list(reversed(HISTORY))) == expected


def test_the_line_shows_bar_phase_state_statuses_and_elapsed_time():
    line = progress_of(HISTORY).line(3725)
    assert line == "[######------] deploy    | Wait For Deployment | job Completed | deployment Creating | 1:02:05"
    assert progress_of([]).line(0) == "[##----------] validate  | starting | 0:00:00"
