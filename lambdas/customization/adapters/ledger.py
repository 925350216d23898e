"""The run ledger: every resource a run creates, recorded durably in DynamoDB, keyed by the
execution. The intent is written before the create call, so a crash between the two cannot
hide a resource; Tear Down, the cleanup on aborted runs and the janitor read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key

from customization.adapters.errors import aws_errors
from customization.errors import ConditionFailedError
from customization.models.resources import LedgerEntry

RUN_ITEM = "run"
RETENTION = timedelta(days=90)  # ledger items expire (DynamoDB TTL) this long after their last change


def _now() -> datetime:
    return datetime.now(UTC)


class RunLedger:
    def __init__(self, table: Any) -> None:
        self._table = table

    def _stamp(self) -> dict[str, Any]:
        now = _now()
        return {"updated_at": now.isoformat(), "expires": int((now + RETENTION).timestamp())}

    def record_run(self, execution: str, settings: dict[str, Any]) -> None:
        """The run's own options (what Tear Down needs when no state payload reaches it)."""
        with aws_errors(f"record run {execution} in the ledger"):
            self._table.put_item(Item={"execution": execution, "resource": RUN_ITEM, **settings, **self._stamp()})

    def run_settings(self, execution: str) -> dict[str, Any] | None:
        with aws_errors(f"read run {execution} from the ledger"):
            item = self._table.get_item(Key={"execution": execution, "resource": RUN_ITEM}, ConsistentRead=True).get("Item")
        return dict(item) if item else None

    def intend(self, execution: str, kind: str, name: str) -> None:
        """Written before the create call. A repeat (a retried step) keeps the existing entry."""
        item = {"execution": execution, "resource": f"{kind}#{name}", "kind": kind, "name": name, "status": "intended"}
        try:
            with aws_errors(f"record intent {kind} {name}"):
                self._table.put_item(
                    Item={**item, **self._stamp()}, ConditionExpression="attribute_not_exists(#r)",
                    ExpressionAttributeNames={"#r": "resource"},
                )
        except ConditionFailedError:
            return

    def mark(self, execution: str, kind: str, name: str, status: str, arn: str | None = None) -> None:
        stamp = self._stamp()
        names = {"#s": "status", "#u": "updated_at", "#e": "expires", "#k": "kind", "#n": "name"}
        values: dict[str, Any] = {":s": status, ":u": stamp["updated_at"], ":e": stamp["expires"], ":k": kind, ":n": name}
        expression = "SET #s = :s, #u = :u, #e = :e, #k = :k, #n = :n"
        if arn:
            names["#a"], values[":a"] = "arn", arn
            expression += ", #a = :a"
        with aws_errors(f"record {kind} {name} as {status}"):
            self._table.update_item(
                Key={"execution": execution, "resource": f"{kind}#{name}"},
                UpdateExpression=expression, ExpressionAttributeNames=names, ExpressionAttributeValues=values,
            )

    def entries(self, execution: str) -> list[LedgerEntry]:
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {"KeyConditionExpression": Key("execution").eq(execution), "ConsistentRead": True}
        with aws_errors(f"read the ledger of {execution}"):
            while True:
                page = self._table.query(**query)
                items += page["Items"]
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [
            LedgerEntry(execution, item["kind"], item["name"], item["status"], item.get("arn"), item.get("updated_at"))
            for item in items
            if item["resource"] != RUN_ITEM
        ]
