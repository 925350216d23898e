import pytest

from customization.core.evaluation import mean_score, rouge_l, verdict
from customization.core.teardown import readable_failure


def test_rouge_l_on_known_pairs():
    scores = rouge_l(
        ["the cat sat on the mat", "completely different words", "the cat sat"],
        ["the cat sat on the mat", "the cat sat on the mat", "the cat sat on the mat"],
    )
    assert scores[0] == pytest.approx(1.0)
    assert scores[1] == pytest.approx(0.0)
    # LCS 3 of 3 predicted and 6 reference tokens: P=1, R=0.5, F1=2/3
    assert scores[2] == pytest.approx(2 / 3, abs=1e-4)


def test_the_verdict_says_plainly_which_model_is_better():
    assert verdict(0.30, 0.55, 10).text.startswith("custom model is BETTER")
    assert verdict(0.55, 0.30, 10).text.startswith("custom model is WORSE")
    tie = verdict(0.500, 0.502, 10)
    assert not tie.custom_is_better and tie.text.startswith("custom model is NOT BETTER")
    assert mean_score([]) == 0.0


def test_a_lambda_error_becomes_a_readable_failure():
    failure = readable_failure(
        {"Error": "JobFailedError", "Cause": '{"errorType": "JobFailedError", "errorMessage": "job x failed: bad data"}'}
    )
    assert (failure.error, failure.cause) == ("JobFailedError", "job x failed: bad data")
    assert readable_failure({"Error": "States.Timeout", "Cause": "timed out"}).cause == "timed out"
