from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from customization.vocabulary import METRICS_NAMESPACE, SERVICE_NAME


class Monitoring(Construct):
    """A CloudWatch dashboard of the runs (started, failed, job durations, deployment hours,
    promotions, janitor deletions) and three alarms that notify the topic: a failed run, a
    janitor deletion (a deployment outlived its run), and an event left undelivered in the
    dead-letter queue. Exposes `dashboard`, `alarms`."""

    def __init__(self, scope: Construct, id_: str, *, state_machine: sfn.StateMachine, topic: sns.ITopic,
                 dead_letters: sqs.IQueue) -> None:
        super().__init__(scope, id_)

        def ours(name: str, statistic: str = "Sum") -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=METRICS_NAMESPACE, metric_name=name, dimensions_map={"service": SERVICE_NAME},
                statistic=statistic, period=cdk.Duration.hours(1),
            )

        failed = state_machine.metric_failed(period=cdk.Duration.minutes(5), statistic="Sum")
        janitor = ours("JanitorDeletions")
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{cdk.Stack.of(self).stack_name}-runs")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Runs", left=[
                state_machine.metric_started(statistic="Sum"), state_machine.metric_succeeded(statistic="Sum"),
                state_machine.metric_failed(statistic="Sum"), state_machine.metric_aborted(statistic="Sum"),
                state_machine.metric_timed_out(statistic="Sum"),
            ]),
            cloudwatch.GraphWidget(title="Customization job duration (s)", left=[ours("JobDurationSeconds", "Average")]),
            cloudwatch.GraphWidget(title="Deployment hours", left=[ours("DeploymentHours")]),
            cloudwatch.GraphWidget(title="Promotions and janitor deletions", left=[ours("RunsPromoted"), janitor]),
        )
        self.alarms = [
            cloudwatch.Alarm(
                self, "RunFailed", metric=failed, threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description="A customization run failed; its notice and the runbook say what to do",
            ),
            cloudwatch.Alarm(
                self, "JanitorDeleted", metric=janitor, threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description="The janitor deleted a deployment that outlived its run",
            ),
            cloudwatch.Alarm(
                self, "EventsUndelivered", metric=dead_letters.metric_approximate_number_of_messages_visible(
                    period=cdk.Duration.minutes(5), statistic="Maximum"),
                threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description="An event or schedule could not be delivered past its retries; the runbook says how to redrive it",
            ),
        ]
        for alarm in self.alarms:
            alarm.add_alarm_action(actions.SnsAction(topic))
