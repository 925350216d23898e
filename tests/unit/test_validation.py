"""The dataset validator: for every format a valid fixture passes, and each rule has a
failing fixture whose report names the line and the rule."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customization.datasets.media import MediaLookups
from customization.datasets.report import MAX_LISTED, DatasetReport
from customization.datasets.rules import RecordRules
from customization.datasets.validator import DatasetSource, validate_dataset, validate_sources
from customization.registry import RecordRange, load_registry
from tests.datasets import record
from tests.fakes import SizesFrom

REGISTRY = load_registry()
FORMATS = {
    "nova-lite": "conversation",
    "haiku": "claude_messages",
    "llama3.1-8b": "prompt_completion",
    "titan-text-express": "prompt_completion",
}


def encode(*items: Any) -> list[bytes]:
    return [item if isinstance(item, bytes) else json.dumps(item).encode() for item in items]


def run(
    model: str,
    items: list[Any],
    *,
    customization_type: str = "FINE_TUNING",
    role: str = "training",
    batch_size: int | None = None,
    bucket: str | None = None,
    probe=None,
    size: int | None = None,
    limits: dict[str, Any] | None = None,
) -> DatasetReport:
    spec = REGISTRY.resolve(model)
    customization = spec.customization(customization_type)
    if limits:
        customization = customization.model_copy(update={"limits": customization.limits.model_copy(update=limits)})
    media = MediaLookups(SizesFrom(probe)) if probe is not None else None
    rules = RecordRules(spec, customization, batch_size=batch_size, dataset_bucket=bucket, media=media)
    return validate_dataset(encode(*items), rules, role=role, source="test.jsonl", size_bytes=size)


def found(report: DatasetReport) -> set[tuple[int, str]]:
    return {(f.line, f.rule) for f in report.errors}


def warned(report: DatasetReport) -> set[tuple[int, str]]:
    return {(f.line, f.rule) for f in report.warnings}


def many(data_format: str, count: int, start: int = 0) -> list[dict[str, Any]]:
    return [record(data_format, start + i) for i in range(count)]


# -- valid fixtures ------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "data_format"), FORMATS.items())
def test_a_valid_dataset_passes(model, data_format):
    report = run(model, many(data_format, 120))
    assert report.valid, report.errors
    assert report.records == 120 and report.estimated_tokens > 0 and report.warning_count == 0


def test_a_valid_continued_pretraining_dataset_passes():
    report = run("titan-text-express", many("continued_pretraining", 10), customization_type="CONTINUED_PRE_TRAINING")
    assert report.valid and report.records == 10


def test_every_registry_model_accepts_its_own_valid_fixture():
    for model in REGISTRY.models:
        for customization_type, customization in model.customizations.items():
            count = max(120, customization.limits.training_records.min or 0)
            report = run(model.model_id, many(customization.data_format, count), customization_type=customization_type)
            assert report.valid, (model.model_id, report.errors[:3])


# -- rules of every format -----------------------------------------------------------------

NOVA = many("conversation", 10)


def nova_with(bad: Any, at: int = 3) -> list[Any]:
    return [*NOVA[: at - 1], bad, *NOVA[at - 1 :]]


def conversation(**change: Any) -> dict[str, Any]:
    return {**record("conversation", 99), **change}


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def assistant(*blocks: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


def image(uri: str = "s3://data/img/cat.png", fmt: str = "png") -> dict[str, Any]:
    return {"image": {"format": fmt, "source": {"s3Location": {"uri": uri}}}}


def video(uri: str = "s3://data/vid/clip.mp4", fmt: str = "mp4") -> dict[str, Any]:
    return {"video": {"format": fmt, "source": {"s3Location": {"uri": uri}}}}


TEXT = {"text": "Describe it."}
ANSWER = {"text": "A cat."}


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        (b"{not json", "json"),
        (b'{"schemaVersion": "\xff\xfe"}', "utf-8"),
        ([1, 2, 3], "json-object"),
        ("a string", "json-object"),
        (conversation(extra=1), "unknown-field"),
        (conversation(schemaVersion=2024), "schema-version"),
        (conversation(schemaVersion=None), "schema-version"),
        (conversation(system="be brief"), "system"),
        (conversation(system=[{"text": 1}]), "system"),
        (conversation(messages="hi"), "messages"),
        (conversation(messages=[]), "messages"),
        (conversation(messages=[{"role": "bot", "content": [TEXT]}]), "role"),
        (conversation(messages=[assistant(ANSWER), user(TEXT)]), "turn-order"),
        (conversation(messages=[user(TEXT)]), "turn-order"),
        (conversation(messages=[user(TEXT), user(TEXT), assistant(ANSWER)]), "turn-order"),
        (conversation(messages=[user(), assistant(ANSWER)]), "content"),
        (conversation(messages=[{"role": "user", "content": "text"}, assistant(ANSWER)]), "content"),
        (conversation(messages=[user({"text": "a", "image": {}}), assistant(ANSWER)]), "content-block"),
        (conversation(messages=[user({"toolUse": {}}), assistant(ANSWER)]), "content-block"),
        (conversation(messages=[user({"text": 5}), assistant(ANSWER)]), "content-block"),
        (conversation(messages=[user(TEXT, image(fmt="bmp")), assistant(ANSWER)]), "image-format"),
        (conversation(messages=[user(TEXT, {"image": {"format": "png", "source": {"bytes": "..."}}}), assistant(ANSWER)]), "image-source"),
        (conversation(messages=[user(TEXT, video(fmt="avi")), assistant(ANSWER)]), "video-format"),
        (conversation(messages=[user(TEXT), assistant(ANSWER, image())]), "media-in-assistant"),
        (conversation(messages=[user(TEXT, *[image(f"s3://data/i{n}.png") for n in range(11)]), assistant(ANSWER)]), "too-many-images"),
        (conversation(messages=[user(TEXT, video(), video("s3://data/v2.mp4")), assistant(ANSWER)]), "too-many-videos"),
        (conversation(messages=[user(TEXT, image(), video()), assistant(ANSWER)]), "mixed-media"),
        (conversation(messages=[user(TEXT, image("s3://data/my cat.png")), assistant(ANSWER)]), "media-key"),
        (conversation(messages=[user({"text": "User: hello"}), assistant(ANSWER)]), "reserved-keyword"),
        (conversation(system=[{"text": "Reply after [EOS]"}]), "reserved-keyword"),
    ],
)
def test_each_conversation_rule_is_reported_at_its_line(bad, rule):
    report = run("nova-lite", nova_with(bad, at=3))
    assert (3, rule) in found(report), report.errors
    assert not report.valid


def test_reserved_keywords_in_assistant_answers_are_allowed():
    answer = conversation(messages=[user(TEXT), assistant({"text": "Assistant: fine"})])
    assert run("nova-lite", nova_with(answer)).valid


def test_a_text_only_model_rejects_images():
    bad = conversation(messages=[user(TEXT, image()), assistant(ANSWER)])
    assert (3, "media-unsupported") in found(run("nova-micro", nova_with(bad)))
    assert (3, "media-unsupported") in found(run("llama3.2-1b", [*many("conversation", 2), bad]))


def test_images_and_videos_may_not_mix_across_a_dataset():
    with_image = conversation(messages=[user(TEXT, image()), assistant(ANSWER)])
    with_video = conversation(messages=[user(TEXT, video()), assistant(ANSWER)])
    report = run("nova-lite", [*NOVA, with_image, with_video])
    assert (12, "mixed-media") in found(report)


def test_media_rules_that_need_s3_are_skipped_for_local_files_and_run_for_s3():
    with_image = conversation(messages=[user(TEXT, image("s3://other/cat.png")), assistant(ANSWER)])
    local = run("nova-lite", nova_with(with_image))
    assert {s["rule"] for s in local.skipped} == {"media-bucket", "media-size"} and local.valid

    sizes = {"s3://other/cat.png": 20 * 1024 * 1024}
    in_s3 = run("nova-lite", nova_with(with_image), bucket="data", probe=sizes)
    assert {(3, "media-bucket"), (3, "media-size")} <= found(in_s3)
    missing = run("nova-lite", nova_with(conversation(messages=[user(TEXT, image()), assistant(ANSWER)])), bucket="data", probe={})
    assert (3, "media-missing") in found(missing)


def test_nova_2_accepts_reasoning_content_in_answers_only():
    reasoning = {"reasoningContent": {"reasoningText": {"text": "think"}}}
    good = conversation(messages=[user(TEXT), assistant(reasoning, ANSWER)])
    bad = conversation(messages=[user(reasoning), assistant(ANSWER)])
    assert run("nova-2-lite", nova_with(good)).valid
    assert (3, "content-block") in found(run("nova-2-lite", nova_with(bad)))


HAIKU = many("claude_messages", 40)


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        ({**record("claude_messages", 90), "schemaVersion": "x"}, "unknown-field"),
        ({**record("claude_messages", 90), "system": [{"text": "x"}]}, "system"),
        ({"messages": [{"role": "user", "content": [{"text": "q"}]}, {"role": "assistant", "content": "a"}]}, "content"),
        ({"messages": [{"role": "user", "content": " "}, {"role": "assistant", "content": "a"}]}, "content"),
        ({"messages": [{"role": "user", "content": "q"}, {"role": "user", "content": "q"}]}, "turn-order"),
        ({"messages": [{"role": "user", "content": "q\nHuman: more"}, {"role": "assistant", "content": "a"}]}, "reserved-keyword"),
        ({"system": "x\nAssistant: y", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}, "reserved-keyword"),
        ({"messages": [{"role": "assistant", "content": "a"}]}, "turn-order"),
    ],
)
def test_each_claude_rule_is_reported_at_its_line(bad, rule):
    report = run("haiku", [*HAIKU[:4], bad, *HAIKU[4:]])
    assert (5, rule) in found(report), report.errors


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        ({"prompt": "p"}, "required-field"),
        ({"prompt": "", "completion": "c"}, "required-field"),
        ({"prompt": "p", "completion": 3}, "required-field"),
        ({"prompt": "p", "completion": "c", "label": 1}, "unknown-field"),
        ({"input": "text"}, "required-field"),
    ],
)
def test_each_prompt_completion_rule_is_reported_at_its_line(bad, rule):
    report = run("titan-text-express", [*many("prompt_completion", 5), bad])
    assert (6, rule) in found(report)


@pytest.mark.parametrize(
    ("bad", "rule"),
    [({"input": ""}, "required-field"), ({"input": "text", "source": "web"}, "unknown-field"), ({"text": "x"}, "required-field")],
)
def test_each_continued_pretraining_rule_is_reported_at_its_line(bad, rule):
    report = run("titan-text-express", [*many("continued_pretraining", 2), bad], customization_type="CONTINUED_PRE_TRAINING")
    assert (3, rule) in found(report)


# -- limits --------------------------------------------------------------------------------


def test_too_few_records_for_the_model():
    report = run("haiku", HAIKU[:31])
    assert (31, "record-count") in found(report)
    assert "needs at least 32" in report.errors[0].message


def test_too_many_records_names_the_first_one_over():
    report = run("nova-lite", many("conversation", 12), limits={"training_records": RecordRange(min=8, max=10)})
    assert found(report) == {(11, "record-count")}
    assert report.error_count == 1


def test_the_validation_set_has_its_own_limits_and_the_total_is_checked():
    training = DatasetSource("training", "t", lambda: encode(*many("claude_messages", 9500)))
    validation = DatasetSource("validation", "v", lambda: encode(*many("claude_messages", 1001, start=9500)))
    model = REGISTRY.resolve("haiku")
    reports = validate_sources(model, model.customization("FINE_TUNING"), [training, validation], batch_size=32)
    assert reports[0].valid
    assert {(1001, "record-count"), (1001, "total-record-count")} <= found(reports[1])


def test_a_model_without_validation_sets_rejects_one():
    model = REGISTRY.resolve("nova-2-lite")
    sources = [
        DatasetSource("training", "t", lambda: encode(*NOVA)),
        DatasetSource("validation", "v", lambda: encode(*NOVA)),
    ]
    reports = validate_sources(model, model.customization("FINE_TUNING"), sources, batch_size=None)
    assert found(reports[1]) == {(1, "validation-set")}


def test_file_size_limits():
    report = run("titan-text-express", many("prompt_completion", 3), size=2 * 1024**3)
    assert (3, "file-size") in found(report)
    report = run("titan-text-express", many("prompt_completion", 3), role="validation", size=101 * 1024**2)
    assert (3, "file-size") in found(report)


def test_the_token_estimate_uses_the_models_rule_and_titans_batch_size_limits():
    long_input = {"input": "x" * (4 * 3000)}  # 3,000 tokens at 4 characters per token
    express = {"customization_type": "CONTINUED_PRE_TRAINING"}
    assert run("titan-text-express", [long_input], batch_size=1, **express).valid
    report = run("titan-text-express", [long_input], batch_size=2, **express)
    assert (1, "tokens") in found(report)
    assert "about 3,000 tokens (estimated at 4 characters per token)" in report.errors[0].message
    assert "2,048-token limit per record at batch size 2" in report.errors[0].message
    assert run("titan-text-lite", [long_input], batch_size=2, **express).valid  # Lite keeps 4,096 up to batch 2


def test_duplicates_and_blank_lines_are_warnings_only():
    items = [*NOVA, NOVA[0], b"   "]
    report = run("nova-lite", items)
    assert report.valid
    assert warned(report) == {(11, "duplicate"), (12, "blank-line")}
    assert report.warnings[0].message == "same record as line 1"


def test_an_empty_file_is_invalid():
    assert found(run("nova-lite", [])) == {(1, "empty")}


def test_the_listing_is_capped_and_the_rest_counted():
    report = run("nova-lite", [b"nope"] * 50)
    assert report.error_count == 50 and len(report.errors) == MAX_LISTED
    assert report.describe().endswith("; and 45 more")


# -- properties: never a crash, every error on a real line --------------------------------


def assert_well_formed(report: DatasetReport, line_count: int) -> None:
    for finding in report.errors + report.warnings:
        assert 1 <= finding.line <= max(1, line_count), finding
        assert finding.rule and finding.message


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(["schemaVersion", "system", "messages", "role", "content", "text", "image", "video", "prompt", "completion", "input", "format", "source", "s3Location", "uri"])
SHAPED = st.recursive(
    st.none() | st.text(max_size=30) | st.integers() | st.sampled_from(["user", "assistant", "png", "s3://data/a.png"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=25,
)
MODELS = st.sampled_from([(m.model_id, t) for m in REGISTRY.models for t in m.customizations])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.binary(max_size=60), max_size=8), model=MODELS)
def test_arbitrary_bytes_never_crash_the_validator(lines, model):
    lines = [line.replace(b"\n", b" ") for line in lines]
    report = run(model[0], lines, customization_type=model[1])
    assert_well_formed(report, len(lines))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=st.lists(JSON | SHAPED, min_size=1, max_size=5), model=MODELS, probe=st.booleans())
def test_arbitrary_json_never_crashes_the_validator(documents, model, probe):
    report = run(model[0], documents, customization_type=model[1], bucket="data" if probe else None,
                 probe={} if probe else None)
    assert_well_formed(report, len(documents))


# -- rules that follow Bedrock, not a stricter sample validator ----------------------------------


def test_a_nova_record_without_schema_version_is_valid():
    # The Nova guide: schemaVersion "can be any string value", and it may be left out.
    without = {key: value for key, value in conversation().items() if key != "schemaVersion"}
    report = run("nova-lite", nova_with(without))
    assert report.valid and report.warning_count == 0
    assert run("nova-lite", nova_with(conversation(schemaVersion="my-own-version"))).valid


def test_llama_schema_versions_other_than_the_sample_validators_are_warned_not_rejected():
    without = {key: value for key, value in record("conversation", 3).items() if key != "schemaVersion"}
    items = [*many("conversation", 110), without, conversation(schemaVersion="v2")]
    report = run("llama3.2-1b", items)
    assert report.valid
    assert {(111, "schema-version"), (112, "schema-version")} <= warned(report)
    assert any("meta-llama/dataset_validation" in w.message and "missing" in w.message for w in report.warnings)


def test_a_small_claude_validation_set_is_warned_naming_the_sample_validator():
    report = run("haiku", many("claude_messages", 10), role="validation")
    assert report.valid
    (warning,) = report.warnings
    assert warning.rule == "validation-record-count" and "data_validation.py" in warning.message
    assert run("haiku", many("claude_messages", 32), role="validation").warning_count == 0


@pytest.mark.parametrize(("key", "valid"), [("data/train set.jsonl", False), ("data/train(1).jsonl", False), ("data/train_1.jsonl", True)])
def test_nova_dataset_object_keys_follow_the_documented_character_set(key, valid):
    spec = REGISTRY.resolve("nova-micro")
    lines = encode(*many("conversation", 10))
    source = DatasetSource(role="training", name=f"s3://data/{key}", lines=lambda: lines, bucket="data")
    (report,) = validate_sources(spec, spec.customization("FINE_TUNING"), [source], batch_size=None)
    assert report.valid is valid
    if not valid:
        assert found(report) == {(1, "object-key")}
    # A model without that rule takes any key.
    llama = REGISTRY.resolve("llama3.2-1b")
    (other,) = validate_sources(llama, llama.customization("FINE_TUNING"), [
        DatasetSource(role="training", name=f"s3://data/{key}", lines=lambda: encode(*many("conversation", 110)), bucket="data")
    ], batch_size=None)
    assert other.valid


# -- distillation prompts ------------------------------------------------------------------------


def prompt(n: int, *, answer: bool = False, turns: int = 1, **extra: Any) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    for turn in range(turns):
        messages.append({"role": "user", "content": [{"text": f"Question {n}.{turn}: why is the sky blue?"}]})
        if answer or turn < turns - 1:
            messages.append({"role": "assistant", "content": [{"text": f"Answer {n}.{turn}: scattering."}]})
    return {"schemaVersion": "bedrock-conversation-2024", "messages": messages, **extra}


def test_distillation_prompts_may_leave_the_answer_to_the_teacher():
    items = [prompt(n, answer=n % 2 == 0) for n in range(100)]
    for model in ("nova-micro", "llama3.1-8b"):
        report = run(model, items, customization_type="DISTILLATION")
        assert report.valid, report.describe()
    # The answer checked in a missing answer's place adds no tokens: the prompt's own, 34 characters / 4.
    one = run("nova-micro", [prompt(0)] * 100, customization_type="DISTILLATION")
    assert one.max_record_tokens == 9


def test_distillation_needs_its_schema_version_a_hundred_prompts_and_user_turns():
    items = [prompt(n) for n in range(100)]
    items[3] = {key: value for key, value in prompt(3).items() if key != "schemaVersion"}
    items[4] = prompt(4, schemaVersion="bedrock-conversation-2023")
    items[5] = {"schemaVersion": "bedrock-conversation-2024", "messages": [{"role": "assistant", "content": [{"text": "x"}]}]}
    report = run("nova-micro", items, customization_type="DISTILLATION")
    assert {(4, "schema-version"), (5, "schema-version"), (6, "turn-order")} <= found(report)
    assert "must be \"bedrock-conversation-2024\" for distillation, got 'missing'" in report.errors[0].message
    short = run("nova-micro", [prompt(n) for n in range(99)], customization_type="DISTILLATION")
    assert ("record-count" in {f.rule for f in short.errors}) and "at least 100" in short.describe()


def test_students_of_meta_teachers_take_one_prompt_per_record_and_nova_students_several():
    items = [prompt(n, turns=2 if n == 7 else 1) for n in range(100)]
    llama = run("llama3.1-8b", items, customization_type="DISTILLATION")
    assert found(llama) == {(8, "single-turn")}
    assert "2 user turns; distillation for Meta Llama 3.1 8B Instruct takes one user prompt per record" in llama.errors[0].message
    assert run("nova-micro", items, customization_type="DISTILLATION").valid


def test_a_sweep_checks_its_records_at_the_candidates_tightest_token_limit():
    """Titan Text Express allows 4,096 tokens a record at batch size 1 and 2,048 above: a sweep
    over batchSize 1 and 2 refuses a 3,000-token record before anything trains, since the
    batch-2 candidate's job would fail on it."""
    from customization.core.request_rules import parse_request
    from customization.core.validate_request import check_datasets

    line = json.dumps({"input": "x" * (4 * 3000)}).encode()
    source = DatasetSource("training", "s3://bkt/train.jsonl", lambda: iter([line]), size_bytes=len(line))
    model = REGISTRY.resolve("titan-text-express")
    base = {"base_model": "titan-text-express", "customization_type": "CONTINUED_PRE_TRAINING", "training_data": "s3://bkt/train.jsonl",
            "hyperparameters": {"batchSize": 1}}
    (alone,) = check_datasets(parse_request(base, bucket="bkt"), model, [source], media=None)
    assert alone.valid
    sweep = {**base, "validation_data": "s3://bkt/validation.jsonl", "sweep": {"grid": {"batchSize": [1, 2]}}}
    (swept,) = check_datasets(parse_request(sweep, bucket="bkt"), model, [source], media=None)
    assert not swept.valid and "2,048-token limit per record at batch size 2" in swept.errors[0].message
