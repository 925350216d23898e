"""The model versions adapter and use cases with in-memory fakes: every page of the table is
read, a rollback goes to the kept version before the current one, and a delete refuses the
current version."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from customization.adapters.versions import ModelVersions
from customization.core.versions import delete_version, promote, rollback
from customization.errors import RequestInvalidError
from customization.models.versions import Lineage, MetricLineage, ModelVersion


class PagedTable:
    """Answers a query or scan one item a page, as DynamoDB does past 1 MB."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, int], dict] = {}

    def _page(self, **params):
        ordered = sorted(self.items.values(), key=lambda i: (i["model"], i["version"]))
        start = params.get("ExclusiveStartKey", -1)
        page = {"Items": ordered[start + 1:start + 2]}
        if start + 2 < len(ordered):
            page["LastEvaluatedKey"] = start + 1
        return page

    query = scan = _page

    def put_item(self, Item, **_):  # noqa: N803 - boto3's names
        self.items[(Item["model"], Item["version"])] = Item


class Parameters:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def put_parameter(self, Name, Value, **_):  # noqa: N803
        self.values[Name] = Value

    def get_parameter(self, Name):  # noqa: N803
        return {"Parameter": {"Value": self.values[Name]}}


class Models:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete_custom_model(self, arn: str) -> None:
        self.deleted.append(arn)


def version(number: int) -> ModelVersion:
    lineage = Lineage(base_model="amazon.nova-lite-v1:0:300k", customization_type="FINE_TUNING", datasets=[], hyperparameters={},
                      metrics=MetricLineage(primary_metric="rougeL", base=None, custom=None, delta=None, ci95=None),
                      report_uri=None, report_html_uri=None, execution_name=f"run-{number}", execution_arn=f"arn:run-{number}")
    return ModelVersion(model_name="summaries", version=number, custom_model_arn=f"arn:model-{number}",
                        created_at=datetime(2026, 12, 1, tzinfo=UTC), lineage=lineage)


@pytest.fixture
def store() -> ModelVersions:
    versions = ModelVersions(PagedTable(), Parameters(), "/bedrock-customize/Stack/models")
    for number in (1, 2, 3):
        assert versions.add(version(number))
    versions.set_current("summaries", "arn:model-3", version=3)
    return versions


def test_every_page_of_the_table_is_read(store):
    assert [v.version for v in store.versions("summaries")] == [1, 2, 3] and store.model_names() == ["summaries"]


def test_a_rollback_skips_a_deleted_version_and_deletes_nothing(store):
    models = Models()
    promote(store, "summaries", 1)
    delete_version(store, models, "summaries", 2)
    promote(store, "summaries", 3)
    assert rollback(store, "summaries").version == 1 and store.current_arn("summaries") == "arn:model-1"
    assert models.deleted == ["arn:model-2"]
    with pytest.raises(RequestInvalidError, match="version 1 is the current version"):
        delete_version(store, models, "summaries", 1)
    with pytest.raises(RequestInvalidError, match="has no version 9"):
        promote(store, "summaries", 9)
