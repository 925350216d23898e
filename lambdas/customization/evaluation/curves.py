"""Training curves: Bedrock writes step_wise_training_metrics.csv (and validation_metrics.csv
when a validation set was given) under the job's output prefix. This reads them, reports the
final and best losses, and flags divergence, overfitting and under-training, with a
suggested epoch count for the next run. A reinforcement job's file carries the mean reward
of each step (column `reward_mean`, the simulation's name: the guide read names no column)
instead of a loss: its curve rises, and a falling one is flagged."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from statistics import fmean

from customization.evaluation.contracts import TrainingAnalysis

TRAINING_FILE = "step_wise_training_metrics.csv"
VALIDATION_FILE = "validation_metrics.csv"


@dataclass
class Curves:
    training: list[tuple[int, int, float]] = field(default_factory=list)  # step, epoch, loss
    validation: list[tuple[int, int, float]] = field(default_factory=list)
    rewards: list[tuple[int, int, float]] = field(default_factory=list)  # step, epoch, mean reward


def parse_metrics(text: str, loss_column: str) -> list[tuple[int, int, float]]:
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        try:
            rows.append((int(float(row["step_number"])), int(float(row["epoch_number"])), float(row[loss_column])))
        except (KeyError, TypeError, ValueError):
            continue
    return rows


def _epoch_means(rows: list[tuple[int, int, float]]) -> list[float]:
    by_epoch: dict[int, list[float]] = {}
    for _, epoch, loss in rows:
        by_epoch.setdefault(epoch, []).append(loss)
    return [fmean(by_epoch[e]) for e in sorted(by_epoch)]


def analyse(curves: Curves, *, epochs: int, max_epochs: int) -> TrainingAnalysis:
    """Figures and flags; `epochs` is what the job ran, `max_epochs` the model's upper bound."""
    if curves.rewards and not curves.training:
        return analyse_rewards(curves.rewards, epochs=epochs)
    if not curves.training:
        return TrainingAnalysis(available=False, flags=[], notes=["no training metrics were found under the job's output"])
    losses = [loss for _, _, loss in curves.training]
    epoch_train = _epoch_means(curves.training)
    epoch_validation = _epoch_means(curves.validation)
    flags: list[str] = []
    notes: list[str] = []
    suggested = epochs

    diverged = any(math.isnan(x) or math.isinf(x) for x in losses) or losses[-1] > losses[0] * 1.1
    if diverged:
        flags.append("divergence")
        notes.append("training loss ended above where it started: lower the learning rate")
    if len(epoch_validation) >= 2 and not diverged:
        best_epoch = min(range(len(epoch_validation)), key=epoch_validation.__getitem__)
        train_falling = epoch_train[-1] < epoch_train[min(best_epoch, len(epoch_train) - 1)]
        if epoch_validation[-1] > epoch_validation[best_epoch] * 1.02 and train_falling:
            flags.append("overfitting")
            suggested = best_epoch + 1
            notes.append(
                f"validation loss was lowest after epoch {best_epoch + 1} and rose afterwards while training loss fell"
            )
    if not diverged and "overfitting" not in flags and len(epoch_train) >= 2:
        last_drop = (epoch_train[-2] - epoch_train[-1]) / max(abs(epoch_train[-2]), 1e-9)
        if last_drop > 0.10:
            flags.append("under-training")
            suggested = min(max_epochs, epochs + max(1, epochs // 2))
            notes.append(f"training loss still fell {last_drop:.0%} in the last epoch")
    return TrainingAnalysis(
        available=True,
        steps=len(curves.training),
        epochs_run=epochs,
        final_training_loss=round(losses[-1], 4),
        best_training_loss=round(min(losses), 4),
        final_validation_loss=round(curves.validation[-1][2], 4) if curves.validation else None,
        best_validation_loss=round(min(x[2] for x in curves.validation), 4) if curves.validation else None,
        flags=flags,
        suggested_epochs=suggested,
        notes=notes or ["the curves look converged"],
        training_curve=[(step, round(loss, 4)) for step, _, loss in curves.training],
        validation_curve=[(epoch, round(loss, 4)) for epoch, loss in enumerate(epoch_validation, start=1)],
    )


def analyse_rewards(rows: list[tuple[int, int, float]], *, epochs: int) -> TrainingAnalysis:
    """A reinforcement job's reward curve: where it started and ended, and whether it fell."""
    epoch_means = _epoch_means(rows)
    first, final = rows[0][2], rows[-1][2]
    flags, notes = [], []
    if len(epoch_means) >= 2 and epoch_means[-1] < epoch_means[0] - 0.02:
        flags.append("reward-falling")
        notes.append("the mean reward fell over training: lower the learning rate, or check the grader")
    elif final <= first + 0.01:
        flags.append("reward-flat")
        notes.append("the mean reward barely moved: the grader may not tell better answers from worse ones")
    return TrainingAnalysis(
        available=True, flags=flags, notes=notes or [f"the mean reward rose from {first:.3f} to {final:.3f}"],
        steps=len(rows), epochs_run=epochs, suggested_epochs=epochs,
        reward_curve=[(step, round(reward, 4)) for step, _, reward in rows], first_reward=round(first, 4),
        final_reward=round(final, 4),
    )
