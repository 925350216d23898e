"""SNS: notices for the people who run the pipeline."""

from __future__ import annotations

from typing import Any

from customization.adapters.errors import aws_errors


class Notifier:
    def __init__(self, client: Any, topic_arn: str | None) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, subject: str, message: str) -> bool:
        """False when the stack has no topic configured for this function."""
        if not self._topic_arn:
            return False
        with aws_errors("publish a notification"):
            # SNS subjects: at most 100 characters, no line breaks.
            self._client.publish(TopicArn=self._topic_arn, Subject=subject.replace("\n", " ")[:100], Message=message)
        return True
