"""Writes the raw example data beside this file: synthetic, small, and made here (no real
dialogues, articles or documents). Run it again to get the same files.

- dialogues.csv: short two-person dialogues and their one-line summaries (the shape of a
  dialogue-summary set: id, dialogue, summary, topic);
- news.jsonl: local news items and their highlights (article, highlights);
- docs/: the documentation pages of a fictional service, for continued pre-training;
- support.jsonl: questions to the fictional service's help desk with short reference answers
  (Alpaca shape), prompts for distillation: the teacher answers them, the references score it;
- invocation-logs/: Bedrock model invocation logs (gzipped JSON lines, as Bedrock writes them)
  of Converse calls to Nova Pro about the help desk (request metadata use_case=support) and to
  Nova Lite about other things (use_case=chat), for distillation from recorded traffic;
- invoices.jsonl: billing e-mails of fictional suppliers and the total each one asks for, prompts
  for reinforcement fine-tuning: the model answers, a numeric grader checks the total;
- shapes/: small generated PNG pictures (a coloured square on white) and shapes.jsonl, questions
  about them in the LLaVA shape (an `image` field, `conversations` with the `<image>` placeholder).
"""

from __future__ import annotations

import csv
import gzip
import json
import random
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEOPLE = ["Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Iris", "Jonas"]
PLACES = ["the library", "the station", "the clinic", "the market", "the pool", "the museum"]
THINGS = ["a table for two", "a train ticket", "an appointment", "a bike", "a room", "two seats"]
TOWNS = ["Riverton", "Eastbrook", "Northgate", "Oakridge", "Ashford", "Clearwater"]
PROJECTS = ["a new library", "a bike lane", "a footbridge", "a sports hall", "a bus depot", "a park"]


def dialogues(rng: random.Random, count: int) -> list[dict[str, str]]:
    rows = []
    for index in range(count):
        a, b = rng.sample(PEOPLE, 2)
        thing, place, day = rng.choice(THINGS), rng.choice(PLACES), rng.choice(["Monday", "Friday", "Sunday"])
        dialogue = (f"#Person1#: Hello, this is {a}. I would like to book {thing} near {place} for {day}. "
                    f"#Person2#: Of course, {a}. Morning or afternoon? #Person1#: Afternoon, please, around {2 + index % 5} pm. "
                    f"#Person2#: Done. I have put it under your name, and {b} will confirm by message.")
        summary = f"{a} books {thing} near {place} for {day} afternoon at {2 + index % 5} pm; {b} will confirm."
        rows.append({"id": f"dlg-{index:03d}", "dialogue": dialogue, "summary": summary, "topic": "booking"})
    return rows


def news(rng: random.Random, count: int) -> list[dict[str, str]]:
    items = []
    for index in range(count):
        town, project = TOWNS[index % len(TOWNS)], rng.choice(PROJECTS)
        votes, cost, months = rng.randint(4, 7), round(rng.uniform(1, 30), 1), rng.randint(6, 24)
        article = (f"The {town} council voted {votes} to 1 on Tuesday to approve {project}, expected to cost "
                   f"{cost} million dollars. Work starts next spring and should take about {months} months. "
                   f"Residents asked how the works would affect parking, and the council promised a plan by summer. "
                   f"Item {index} of the synthetic news set.")
        highlights = f"{town} approves {project} costing {cost} million dollars; work takes about {months} months."
        items.append({"article": article, "highlights": highlights})
    return items


def pages(rng: random.Random) -> dict[str, str]:
    topics = ["accounts", "billing", "exports", "limits", "regions", "retention", "alerts", "access"]
    docs = {}
    for index, topic in enumerate(topics):
        paragraphs = []
        for part in range(6):
            sentences = [f"In Quillstone, {topic} rule {part}.{n} says that a workspace keeps its {topic} settings "
                         f"for {rng.randint(2, 90)} days unless an owner changes them." for n in range(8)]
            paragraphs.append(" ".join(sentences))
        docs[f"{index:02d}-{topic}.md"] = f"# Quillstone {topic}\n\n" + "\n\n".join(paragraphs) + "\n"
    return docs


COLOURS = {"red": (220, 40, 40), "green": (40, 170, 70), "blue": (40, 80, 220), "yellow": (235, 200, 40),
           "purple": (140, 60, 170)}
CORNERS = {"top left": (0, 0), "top right": (1, 0), "bottom left": (0, 1), "bottom right": (1, 1)}
SIDE = 64


def picture(colour: tuple[int, int, int], corner: tuple[int, int]) -> bytes:
    """A SIDE x SIDE RGB PNG: white, with a coloured square filling one quarter."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    half, rows = SIDE // 2, []
    for y in range(SIDE):
        row = bytearray(b"\x00")  # filter byte: none
        for x in range(SIDE):
            inside = (x // half, y // half) == corner
            row += bytes(colour) if inside else b"\xff\xff\xff"
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", SIDE, SIDE, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")


def shapes(folder: Path) -> list[dict[str, object]]:
    """One picture per colour and corner, three questions about each (120 records, 20 images)."""
    folder.mkdir(exist_ok=True)
    items = []
    for colour, rgb in COLOURS.items():
        for corner, position in CORNERS.items():
            name = f"{colour}-{corner.replace(' ', '-')}.png"
            (folder / name).write_bytes(picture(rgb, position))
            for question, answer in (
                ("What colour is the square?", f"The square is {colour}."),
                ("Where is the square?", f"It is in the {corner} corner."),
                ("Describe the picture in one sentence.", f"A {colour} square fills the {corner} quarter of a white picture."),
                ("Is there more than one square?", f"No, there is one {colour} square."),
                ("What is the background colour?", f"White, behind a {colour} square."),
                ("Which quarter is coloured?", f"The {corner} quarter, in {colour}."),
            ):
                items.append({"image": f"shapes/{name}", "conversations": [
                    {"from": "human", "value": f"<image>\n{question}"}, {"from": "gpt", "value": answer}]})
    return items


def support(rng: random.Random, count: int) -> list[dict[str, str]]:
    """Help-desk questions about Quillstone settings, each with a one-sentence reference answer."""
    topics = ["accounts", "billing", "exports", "limits", "regions", "retention", "alerts", "access"]
    items = []
    for index in range(count):
        topic, days, plan = topics[index % len(topics)], rng.randint(2, 90), rng.choice(["Starter", "Team", "Business"])
        question = (f"A customer on the {plan} plan asks (ticket {index}): how long does Quillstone keep {topic} settings "
                    f"after the workspace owner leaves, and can an admin change it?")
        answer = f"On the {plan} plan Quillstone keeps {topic} settings for {days} days, and any workspace admin can change that."
        items.append({"instruction": "Answer the customer's question in one sentence.", "input": question, "output": answer})
    return items


def invoices(rng: random.Random, count: int) -> list[dict[str, str]]:
    """Billing e-mails that name several figures (an order number, a date, items, a discount)
    and end by asking for the total, which is the answer."""
    suppliers = ["Riverton Supplies", "Oakridge Paper", "Ashford Tools", "Clearwater Foods", "Northgate Print"]
    items = []
    for index in range(count):
        order, day, units = 1000 + rng.randint(0, 8999), rng.randint(1, 28), rng.randint(2, 40)
        unit_price = rng.randint(150, 9000) / 100
        total = round(units * unit_price, 2)
        supplier = rng.choice(suppliers)
        email = (f"Hello, the total due is {total:.2f} dollars for order {order}, placed on {day} March by {supplier}. "
                 f"The order holds {units} units at {unit_price:.2f} dollars each. Payment is due within 30 days; "
                 f"invoices paid within 10 days get a 2 percent discount. Reference INV-{index}.")
        items.append({"email": email, "total": f"{total:.2f}"})
    return items


def invocation_logs(rng: random.Random, support_count: int, chat_count: int) -> bytes:
    """ModelInvocationLog records of Converse calls, as Bedrock logs them to S3 (one per line)."""
    records = []
    questions = support(rng, support_count)
    for index in range(support_count + chat_count):
        helpdesk = index < support_count
        if helpdesk:
            prompt, answer = questions[index]["input"], questions[index]["output"]
            model, use_case = "amazon.nova-pro-v1:0", "support"
        else:
            town = TOWNS[index % len(TOWNS)]
            prompt, answer = f"Suggest a name for a cafe in {town}.", f"How about The {town} Corner?"
            model, use_case = "amazon.nova-lite-v1:0", "chat"
        records.append({
            "schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": f"2026-11-30T12:{index % 60:02d}:00Z",
            "accountId": "123456789012", "region": "us-east-1", "requestId": f"req-{index:04d}", "operation": "Converse",
            "modelId": model, "requestMetadata": {"use_case": use_case},
            "input": {"inputContentType": "application/json", "inputTokenCount": len(prompt) // 4,
                      "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": prompt}]}]}},
            "output": {"outputContentType": "application/json", "outputTokenCount": len(answer) // 4,
                       "outputBodyJson": {"output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
                                          "stopReason": "end_turn"}},
        })
    return gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode(), mtime=0)


def main() -> None:
    rng = random.Random(2026)
    with (HERE / "dialogues.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "dialogue", "summary", "topic"])
        writer.writeheader()
        writer.writerows(dialogues(rng, 60))
    (HERE / "news.jsonl").write_text("".join(json.dumps(item) + "\n" for item in news(rng, 60)), encoding="utf-8")
    (HERE / "docs").mkdir(exist_ok=True)
    for name, text in pages(rng).items():
        (HERE / "docs" / name).write_text(text, encoding="utf-8")
    (HERE / "support.jsonl").write_text("".join(json.dumps(item) + "\n" for item in support(random.Random(7), 150)),
                                        encoding="utf-8")
    (HERE / "invocation-logs").mkdir(exist_ok=True)
    (HERE / "invocation-logs" / "2026-11-30-12.json.gz").write_bytes(invocation_logs(random.Random(13), 130, 40))
    (HERE / "invoices.jsonl").write_text("".join(json.dumps(item) + "\n" for item in invoices(random.Random(11), 130)),
                                         encoding="utf-8")
    records = shapes(HERE / "shapes")
    (HERE / "shapes.jsonl").write_text("".join(json.dumps(item) + "\n" for item in records), encoding="utf-8")


if __name__ == "__main__":
    main()
