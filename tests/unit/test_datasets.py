import json

import pytest

from customization.core.datasets import MAX_LISTED_PROBLEMS, read_samples, validate_lines
from tests.datasets import record


def lines(*records):
    return [r if isinstance(r, bytes) else json.dumps(r).encode() for r in records]


@pytest.mark.parametrize("data_format", ["conversation", "claude_messages", "prompt_completion", "continued_pretraining"])
def test_valid_records_pass(data_format):
    report = validate_lines(lines(*(record(data_format, i) for i in range(3))), data_format)
    assert report.valid and report.records == 3


def conversation(**change):
    return {**record("conversation", 0), **change}


@pytest.mark.parametrize(
    ("data_format", "bad", "rule"),
    [
        ("conversation", b"{not json", "json"),
        ("conversation", b"\xff\xfe", "utf-8"),
        ("conversation", [1, 2], "json-object"),
        ("conversation", conversation(extra=1), "unknown-field"),
        ("conversation", conversation(system="text"), "system"),
        ("conversation", conversation(messages="hi"), "messages"),
        ("conversation", conversation(messages=[{"role": "user", "content": []}]), "content"),
        ("conversation", conversation(messages=[{"role": "assistant", "content": [{"text": "a"}]}]), "roles"),
        ("conversation", conversation(messages=[{"role": "user", "content": [{"text": "q"}]}]), "roles"),
        ("claude_messages", {"messages": [{"role": "user", "content": [{"text": "q"}]}]}, "content"),
        ("claude_messages", {"system": ["x"], "messages": []}, "system"),
        ("prompt_completion", {"prompt": "p"}, "required-field"),
        ("prompt_completion", {"prompt": "p", "completion": "c", "label": 1}, "unknown-field"),
        ("continued_pretraining", {"input": ""}, "required-field"),
    ],
)
def test_each_broken_rule_is_reported_with_its_line(data_format, bad, rule):
    good = record(data_format, 0)
    report = validate_lines(lines(good, bad, good), data_format)
    assert not report.valid
    assert (report.problems[0].line, report.problems[0].rule) == (2, rule)


def test_the_listing_is_capped_and_counts_the_rest():
    report = validate_lines([b"nope"] * 50, "conversation")
    assert report.problem_count == 50 and len(report.problems) == MAX_LISTED_PROBLEMS
    assert "and 30 more" in report.describe("training_data")


def test_an_empty_file_is_invalid():
    assert not validate_lines([b"", b"  "], "prompt_completion").valid


def test_samples_hold_the_prompt_and_the_last_assistant_turn():
    (sample,) = read_samples(lines(record("conversation", 0)), "conversation", limit=5)
    assert sample.messages[-1]["role"] == "user"
    assert sample.reference.startswith("The Riverton council approved")
    assert sample.system == [{"text": "Summarize local news in one sentence."}]
