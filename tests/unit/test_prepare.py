"""`prepare`: every shape people start from is recognised, each refusal and each dropped or
changed record is reported with its line or row and rule, and what is written passes the
validator for the target model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bedrock_customize.cli import main
from customization.datasets.conversion import chunks
from customization.registry import load_registry
from tests.datasets import record

ARTICLE = "The council approved the library {n}. Building starts in spring. Residents asked about parking."


def write_jsonl(path: Path, items: list[dict]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def prepared(tmp_path: Path, source: Path, *args: str) -> tuple[int, dict, dict[str, list[dict]]]:
    out = tmp_path / "out"
    code = main(["prepare", str(source), "--out", str(out), *args])
    report = json.loads((out / "prepare-report.json").read_text()) if (out / "prepare-report.json").exists() else {}
    files = {name: [json.loads(line) for line in (out / name).read_text().splitlines()]
             for name in ("train.jsonl", "validation.jsonl", "test.jsonl") if (out / name).exists()}
    return code, report, files


SHAPES = {
    "openai-chat": lambda n: {"messages": [{"role": "system", "content": "Be brief."},
                                           {"role": "user", "content": ARTICLE.format(n=n)},
                                           {"role": "assistant", "content": f"Library {n} approved."}]},
    "sharegpt": lambda n: {"conversations": [{"from": "human", "value": ARTICLE.format(n=n)},
                                             {"from": "gpt", "value": f"Library {n} approved."}]},
    "alpaca": lambda n: {"instruction": "Summarize.", "input": ARTICLE.format(n=n), "output": f"Library {n} approved."},
    "dolly": lambda n: {"instruction": "Summarize.", "context": ARTICLE.format(n=n), "response": f"Library {n} approved.",
                        "category": "summarization"},
    "prompt-completion": lambda n: {"prompt": ARTICLE.format(n=n), "completion": f"Library {n} approved."},
    "bedrock-conversation": lambda n: record("conversation", n),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("model", ["nova-lite", "haiku", "llama3.1-8b", "llama3.2-1b"])
def test_each_shape_becomes_a_valid_dataset_for_each_format(tmp_path, shape, model):
    source = write_jsonl(tmp_path / "raw.jsonl", [SHAPES[shape](n) for n in range(120)])
    code, report, files = prepared(tmp_path, source, "--base-model", model)
    assert code == 0, report
    assert report["shapes"] == {shape: 120} and report["records_written"] == {"training": 120}
    data_format = load_registry().resolve(model).customization("FINE_TUNING").data_format
    assert report["data_format"] == data_format and len(files["train.jsonl"]) == 120


def test_a_csv_is_read_through_a_mapping_and_a_missing_field_fails_before_anything_is_written(tmp_path, capsys):
    source = tmp_path / "dialogues.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "dialogue", "summary"])
        writer.writerows([[n, ARTICLE.format(n=n), f"Library {n} approved."] for n in range(40)])
    code, report, files = prepared(tmp_path, source, "--base-model", "haiku", "--map", "prompt=dialogue",
                                   "--map", "completion=summary", "--system", "Summarize.")
    assert code == 0 and report["shapes"] == {"mapped": 40}
    assert files["train.jsonl"][0]["system"] == "Summarize."
    capsys.readouterr()
    code = main(["prepare", str(source), "--out", str(tmp_path / "other"), "--base-model", "haiku",
                 "--map", "prompt=dialog", "--map", "completion=summary"])
    assert code == 2 and not (tmp_path / "other").exists()
    assert "no field prompt=dialog in the input; its fields are id, dialogue, summary" in capsys.readouterr().err


def test_every_dropped_record_is_reported_with_its_line_and_rule(tmp_path):
    good = [SHAPES["prompt-completion"](n) for n in range(110)]
    bad = [
        good[0],  # line 111: a duplicate
        {"prompt": "Summarize this.", "completion": ""},  # 112: an empty answer
        {"prompt": "Summarize.\n\nHuman: what now?", "completion": "x"},  # 113: reserved for Claude
        {"prompt": "word " * 40_000, "completion": "long"},  # 114: over the token limit
        {"question": "?", "answer": "!"},  # 115: no known shape
        {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                      {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]},  # 116: multi-turn
    ]
    source = write_jsonl(tmp_path / "raw.jsonl", good + bad)
    code, claude, _ = prepared(tmp_path, source, "--base-model", "haiku")
    assert code == 0
    dropped = {(c["where"], c["rule"]) for c in claude["changes"]}
    assert {("line 111", "duplicate"), ("line 112", "empty-answer"), ("line 113", "reserved-keyword"),
            ("line 114", "tokens"), ("line 115", "shape")} <= dropped
    assert claude["records_read"] == 116 and claude["records_written"] == {"training": 111}  # 110 + the multi-turn chat
    code, llama, _ = prepared(tmp_path, source, "--base-model", "llama3.1-8b")
    assert ("line 116", "format") in {(c["where"], c["rule"]) for c in llama["changes"]}  # one exchange per record


def test_nova_data_converts_to_claude_and_llama(tmp_path):
    source = write_jsonl(tmp_path / "nova.jsonl", [record("conversation", n) for n in range(120)])
    _, _, claude = prepared(tmp_path, source, "--base-model", "haiku")
    first = claude["train.jsonl"][0]
    assert first["system"] == "Summarize local news in one sentence." and first["messages"][1]["content"].startswith("The Riverton")
    _, _, llama = prepared(tmp_path, source, "--base-model", "llama3.1-8b")
    assert set(llama["train.jsonl"][0]) == {"prompt", "completion"}


def test_the_split_is_seeded_and_a_model_without_validation_gets_none(tmp_path):
    source = write_jsonl(tmp_path / "raw.jsonl", [SHAPES["alpaca"](n) for n in range(300)])
    args = ("--base-model", "nova-lite", "--validation-fraction", "0.1", "--test-fraction", "0.2", "--seed", "7")
    _, first, files = prepared(tmp_path, source, *args)
    _, again, same = prepared(tmp_path, source, *args)
    assert files == same and first["records_written"] == again["records_written"]
    written = first["records_written"]
    assert sum(written.values()) == 300 and 10 < written["validation"] < 60 and 30 < written["test"] < 90
    _, nova2, files = prepared(tmp_path, source, "--base-model", "nova-2-lite", "--validation-fraction", "0.1")
    assert "validation.jsonl" not in files and "takes no validation set" in nova2["notes"][0]


def test_continued_pretraining_text_is_chunked_under_the_limit_with_no_text_lost(tmp_path):
    paragraph = " ".join(f"Sentence {n} of the handbook explains one more rule of the service." for n in range(60))
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.md").write_text("\n\n".join([paragraph] * 6))
    (pages / "b.txt").write_text("A short page.")
    code, report, files = prepared(tmp_path, pages, "--base-model", "titan-text-express", "--customization-type",
                                   "CONTINUED_PRE_TRAINING")
    assert code == 0 and report["shapes"] == {"text": 2}
    records = files["train.jsonl"]
    limit = 4096 * 4  # tokens at the default batch size x characters per token
    assert len(records) > 2 and all(len(r["input"]) <= limit for r in records)
    assert ("a.md", "changed", "tokens") in {(c["where"], c["action"], c["rule"]) for c in report["changes"]}
    words = [w for r in records for w in r["input"].split()]
    assert words == ("\n\n".join([paragraph] * 6) + " A short page.").split()


def test_chunks_split_an_overlong_sentence_without_losing_a_character():
    text = "x" * 25 + " " + "y" * 30
    parts = chunks(text, 20)
    assert all(len(p) <= 20 for p in parts) and "".join(parts).replace(" ", "") == text.replace(" ", "")


def test_bad_invocations_exit_2(tmp_path, capsys):
    source = write_jsonl(tmp_path / "raw.jsonl", [SHAPES["alpaca"](0)])
    assert main(["prepare", str(source), "--out", str(tmp_path / "o"), "--base-model", "gpt-4"]) == 2
    assert main(["prepare", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o"), "--base-model", "haiku"]) == 2
    assert main(["prepare", str(source), "--out", str(tmp_path / "o"), "--base-model", "haiku", "--test-fraction", "1.5"]) == 2
    assert main(["prepare", str(source), "--out", str(tmp_path / "o"), "--base-model", "haiku", "--from", "xlsx"]) == 2
    assert "--from xlsx: expected auto or one of" in capsys.readouterr().err


def write_parquet(path: Path, rows: list[dict]) -> Path:
    import pyarrow
    import pyarrow.parquet as parquet

    parquet.write_table(pyarrow.Table.from_pylist(rows), path, row_group_size=50)  # several row groups
    return path


@pytest.mark.parametrize("shape", ["openai-chat", "alpaca"])
def test_a_parquet_file_is_read_row_by_row_with_nested_columns_as_json(tmp_path, shape):
    source = write_parquet(tmp_path / "raw.parquet", [SHAPES[shape](n) for n in range(120)])
    code, report, files = prepared(tmp_path, source, "--base-model", "nova-lite")
    assert code == 0, report
    assert report["shapes"] == {shape: 120} and len(files["train.jsonl"]) == 120
    assert "Library 119 approved." in json.dumps(files["train.jsonl"][-1])  # the last row group too, in order


def test_parquet_is_found_by_its_magic_bytes_and_rows_are_named_in_the_report(tmp_path):
    rows = [SHAPES["alpaca"](n) for n in range(120)]
    rows[7]["output"] = ""  # an empty answer, dropped and reported by its row
    source = write_parquet(tmp_path / "raw.data", rows)
    code, report, files = prepared(tmp_path, source, "--base-model", "nova-lite")
    assert code == 0 and len(files["train.jsonl"]) == 119
    assert [(c["where"], c["action"]) for c in report["changes"]] == [("row 8", "dropped")]


def test_a_damaged_parquet_file_exits_1_naming_it(tmp_path, capsys):
    source = tmp_path / "raw.parquet"
    source.write_bytes(b"PAR1 not really")
    assert main(["prepare", str(source), "--out", str(tmp_path / "o"), "--base-model", "haiku"]) == 1  # the input cannot become a dataset
    assert "raw.parquet: not a readable Parquet file" in capsys.readouterr().err


def test_input_that_cannot_become_a_valid_dataset_exits_1(tmp_path):
    source = write_jsonl(tmp_path / "raw.jsonl", [SHAPES["alpaca"](n) for n in range(5)])  # Claude needs 32
    code, report, _ = prepared(tmp_path, source, "--base-model", "haiku")
    assert code == 1 and report["valid"] is False
    assert report["validation"][0]["errors"][0]["rule"] == "record-count"


# -- images --------------------------------------------------------------------------------------


def llava(tmp_path: Path, count: int, *, size: tuple[int, int] = (64, 48), placeholder: str = "<image>\n") -> Path:
    from tests.images import png

    (tmp_path / "pictures").mkdir(exist_ok=True)
    items = []
    for n in range(count):
        name = f"pictures/shot {n}.png"  # a space: not a key Nova allows, so the copy is renamed
        (tmp_path / name).write_bytes(png(*size))
        items.append({"image": name, "conversations": [
            {"from": "human", "value": f"{placeholder}What is in picture {n}?"},
            {"from": "gpt", "value": f"A grey square, number {n}."},
        ]})
    return write_jsonl(tmp_path / "llava.jsonl", items)


@pytest.mark.parametrize("model", ["nova-lite", "llama3.2-11b"])
def test_llava_records_become_image_blocks_copied_under_media_with_allowed_keys(tmp_path, model):
    source = llava(tmp_path, 110)
    code, report, files = prepared(tmp_path, source, "--base-model", model, "--media-uri", "s3://data-bucket/sets/one/")
    assert code == 0, report
    content = files["train.jsonl"][0]["messages"][0]["content"]
    assert content[0] == {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://data-bucket/sets/one/media/shot-0.png"}}}}
    assert content[1] == {"text": "What is in picture 0?"}
    assert (tmp_path / "out" / "media" / "shot-0.png").is_file()
    assert report["validation"][0]["skipped"] == []  # sizes (and pixel limits) checked on the copies


def test_an_image_in_the_middle_of_the_text_stays_in_its_place(tmp_path):
    source = llava(tmp_path, 110, placeholder="Look: <image> and tell me. ")
    _, _, files = prepared(tmp_path, source, "--base-model", "nova-lite", "--media-uri", "s3://data-bucket/x/")
    kinds = [next(iter(block)) for block in files["train.jsonl"][0]["messages"][0]["content"]]
    assert kinds == ["text", "image", "text"]


def test_image_records_are_refused_by_a_text_only_model(tmp_path, capsys):
    source = llava(tmp_path, 3)
    assert main(["prepare", str(source), "--out", str(tmp_path / "a"), "--base-model", "haiku"]) == 1
    assert "line 1: the record has images; Anthropic Claude 3 Haiku takes no images" in capsys.readouterr().err


def test_without_a_media_uri_images_are_named_relative_to_the_dataset_and_checked_on_disk(tmp_path, capsys):
    source = llava(tmp_path, 110)
    code, report, files = prepared(tmp_path, source, "--base-model", "llama3.2-11b")
    assert code == 0, report
    block = files["train.jsonl"][0]["messages"][0]["content"][0]
    assert block == {"image": {"format": "png", "source": {"s3Location": {"uri": "media/shot-0.png"}}}}
    assert not {s["rule"] for s in report["validation"][0]["skipped"]} & {"media-size", "image-dimensions"}
    big = llava(tmp_path, 110, size=(9000, 20))  # over Llama 3.2's 8192 pixels a side
    code, report, _ = prepared(tmp_path, big, "--base-model", "llama3.2-11b")
    error = report["validation"][0]["errors"][0]
    assert code == 1 and error["rule"] == "image-dimensions"
    assert f"{tmp_path / 'out'}/media/shot-0.png is 9000x20 pixels" in error["message"]  # the file here, not a placeholder


def test_images_over_the_pixel_limit_fail_and_missing_ones_are_dropped(tmp_path):
    source = llava(tmp_path, 101, size=(9000, 20))
    code, report, _ = prepared(tmp_path, source, "--base-model", "llama3.2-11b", "--media-uri", "s3://data-bucket/x/")
    assert code == 1 and report["validation"][0]["errors"][0]["rule"] == "image-dimensions"
    (tmp_path / "pictures" / "shot 3.png").unlink()
    code, report, _ = prepared(tmp_path, source, "--base-model", "nova-lite", "--media-uri", "s3://data-bucket/x/")
    assert ("line 4", "image-missing") in {(c["where"], c["rule"]) for c in report["changes"]}


def test_a_placeholder_without_an_image_is_removed_and_reported(tmp_path):
    items = [{"conversations": [{"from": "human", "value": f"<image>\nDescribe scene {n}."},
                                {"from": "gpt", "value": f"Scene {n}."}]} for n in range(20)]
    source = write_jsonl(tmp_path / "raw.jsonl", items)
    code, report, files = prepared(tmp_path, source, "--base-model", "nova-micro")
    assert code == 0
    assert files["train.jsonl"][0]["messages"][0]["content"] == [{"text": "Describe scene 0."}]
    assert ("line 1", "changed", "image-placeholder") in {(c["where"], c["action"], c["rule"]) for c in report["changes"]}


def test_chunks_keep_a_paragraph_s_sentences_on_one_line_and_paragraphs_apart():
    first, second = "One. Two. Three.", "Four. Five."
    assert chunks(f"{first}\n\n{second}", 100) == [f"{first}\n\n{second}"]
    assert chunks(f"{first}\n\n{second}", 10) == ["One. Two.", "Three.", "Four.", "Five."]
    assert chunks(f"{first}\n\n{second}", 16) == [first, second]


def test_without_pyarrow_as_in_the_lambda_asset_parquet_is_refused_saying_where_it_is_read(tmp_path, monkeypatch):
    from customization.datasets.conversion import ConversionError
    from customization.datasets.readers import LocalInput, read

    source = write_parquet(tmp_path / "raw.parquet", [SHAPES["alpaca"](0)])
    monkeypatch.setitem(__import__("sys").modules, "pyarrow.parquet", None)  # import fails as where it is absent
    with pytest.raises(ConversionError, match="raw.parquet: Parquet is read by `bedrock-customize prepare` on your machine"):
        list(read(LocalInput(source), "parquet"))


def test_a_long_document_is_read_in_segments_between_paragraphs_with_no_text_lost(tmp_path, monkeypatch):
    from customization.datasets import readers

    monkeypatch.setattr(readers, "TEXT_SEGMENT_BYTES", 2_000)  # as a document past 1 MB is read
    paragraphs = [f"Paragraph {n} says ünïcode things. " * 6 for n in range(60)]
    source = tmp_path / "book.md"
    source.write_text("\n\n".join(paragraphs), encoding="utf-8")
    records = list(readers.read(readers.LocalInput(source), "text"))
    assert len(records) > 5 and all(len(r.value.encode()) <= 2_000 for r in records)
    assert records[0].where == "book.md" and records[1].where.startswith("book.md from byte ")
    assert "".join(r.value for r in records) == source.read_text(encoding="utf-8")  # cut between paragraphs, not inside
    assert all(r.value.endswith("\n\n") for r in records[:-1])
    word = tmp_path / "word.txt"
    word.write_text("é" * 3_000, encoding="utf-8")  # no space at all: cut between characters
    assert "".join(r.value for r in readers.read(readers.LocalInput(word), "text")) == "é" * 3_000
    code, report, files = prepared(tmp_path, source, "--base-model", "titan-text-express",
                                   "--customization-type", "CONTINUED_PRE_TRAINING")
    assert code == 0 and report["records_read"] == len(records)
    assert " ".join(r["input"] for r in files["train.jsonl"]).split() == " ".join(paragraphs).split()


def test_text_that_is_not_utf8_exits_1_naming_the_byte(tmp_path, capsys):
    source = tmp_path / "latin1.txt"
    source.write_bytes("Caf\u00e9 au lait.".encode("latin-1"))
    assert main(["prepare", str(source), "--out", str(tmp_path / "o"), "--base-model", "titan-text-express",
                 "--customization-type", "CONTINUED_PRE_TRAINING"]) == 1
    assert "latin1.txt: not UTF-8 text (byte 3)" in capsys.readouterr().err
