"""Rendering the progress report as Markdown or as a printable HTML page."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.reports.progress import ProgressReport

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORMATS = ("md", "html")

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render(report: ProgressReport, definition: WorkflowDefinition, fmt: str) -> str:
    colors = {name: stage.color for name, stage in definition.stages.items()}
    return _env.get_template(f"report.{fmt}.j2").render(report=report, colors=colors)
