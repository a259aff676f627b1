"""`imvo show NAME --as-of D`: one covenant's whole record as it stood on a day, for a console."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from imvo_workflow.cli.parties import render_parties
from imvo_workflow.cli.render import render_targets
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.services.covenant_day import CovenantOnDay


def render_day(console: Console, then: CovenantOnDay, definition: WorkflowDefinition) -> None:
    how = "zoals toen bekend" if then.known_at else "zoals we het nu weten"
    console.print(f"[bold]{then.slug}[/] op {then.day.isoformat()} ({how})")
    stage = definition.stages.get(then.stage)
    label = stage.label.nl if stage else then.stage
    if then.continued_in is not None:
        label = f"Opgegaan in {then.continued_in.into_title}"
    console.print(f"Fase: [bold]{escape(label)}[/] sinds {then.since.isoformat()}")
    if then.note is not None:
        console.print(
            f"Voortgang ({then.note.written_on.isoformat()}, {escape(then.note.author)}):",
            highlight=False,
        )
        console.print(then.note.text, highlight=False)
    elif then.summary:
        console.print(then.summary, highlight=False)
    render_parties(then.parties)
    signed = Table(title="Ondertekend door")
    signed.add_column("Organisatie", overflow="fold")
    signed.add_column("Datum", no_wrap=True)
    for signature in then.signatures:
        signed.add_row(signature.organisation, signature.signed_on.isoformat())
    if not then.signatures:
        signed.add_row("— (nog niemand)", "")
    console.print(signed)
    render_targets(console, then.targets)
    if then.terms:
        terms = Table(title="Looptijd")
        for column in ("Termijn", "Van", "Tot en met", "In werking"):
            terms.add_column(column, no_wrap=True)
        for term in then.terms:
            terms.add_row(
                str(term.number),
                term.starts_on.isoformat(),
                term.ends_on.isoformat(),
                "ja" if term.current else "",
            )
        console.print(terms)
