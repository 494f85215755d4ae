"""Rendering: bundle bytes -> answer file bytes, the whole offline pipeline for one bundle.

Stage: glue over context -> evaluation -> answerfile, shared by `mapctl render`, `mapctl test`
and the import workflow. Pure apart from what it is given: no file access, no printing (the
caller reads and writes files and reports warnings).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import EvaluationError, Problem
from ..hotdocs.answerfile import answers_to_json, render_xml
from ..mapping.model import CompiledMapping
from .context import Context, build_context, load_bundle
from .evaluation import Evaluation, evaluate

OutputFormat = Literal["anx", "json"]


@dataclass
class Rendered:
    """One rendered bundle: the output bytes and what the user should be told."""

    output: bytes
    context: Context
    evaluation: Evaluation
    warnings: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """Answers that failed and were left out (only with keep_going)."""
        return self.evaluation.errors


def render_bundle(
    data: bytes,
    source: str,
    mapping: CompiledMapping,
    *,
    today: datetime.date,
    exclude: Collection[int] = (),
    keep_going: bool = False,
    fmt: OutputFormat = "anx",
) -> Rendered:
    """Load, build the context, evaluate and write one bundle (raises the engine's errors)."""
    bundle = load_bundle(data, source)
    context = build_context(bundle, mapping, today=today, exclude=exclude)
    try:
        evaluation = evaluate(mapping, context, keep_going=keep_going)
    except EvaluationError as error:
        error.warnings = list(context.warnings)  # they may explain the failure
        raise
    answers = evaluation.answer_set
    output = render_xml(answers) if fmt == "anx" else answers_to_json(answers).encode("utf-8")
    return Rendered(output, context, evaluation, list(context.warnings))


def output_name(bundle_path: Path, fmt: OutputFormat) -> str:
    """The file name batch rendering gives a bundle's output: `<stem>.anx` (or `.json`)."""
    return f"{bundle_path.stem}.{fmt}"
