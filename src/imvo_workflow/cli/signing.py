"""`imvo sign` and `imvo targets close`: signatures and milestones from the console.

`imvo sign COVENANT ORG [ORG ...] --by WHO [--on D]` signs in one step (the move to ondertekend
with its signatories, or extra signatories of a covenant already signed); `imvo targets close
COVENANT ID --reached [--on D] | --dropped --reason R` closes a milestone. `milestone_option`
reads `imvo move --milestone ID=bereikt[:DATE]` / `ID=vervallen:REASON`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from imvo_workflow.cli.common import JsonFlag, app_from_env, dump_json, iso_date, out
from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.services import signatures
from imvo_workflow.services.milestones import MilestoneClosing, close_milestone

Name = Annotated[str, typer.Argument(help="Het convenant (naam of sector, bv. natuursteen).")]


def milestone_option(value: str) -> MilestoneClosing:
    """`5=bereikt`, `5=bereikt:2017-03-01` or `5=vervallen:reden` as a closing."""
    key, sep, rest = value.partition("=")
    outcome, _, extra = rest.partition(":")
    if not sep or not key.strip().isdigit() or len(key.strip()) > 19:
        raise InvalidInput(
            f"--milestone '{value[:60]}': gebruik ID=bereikt[:JJJJ-MM-DD] of ID=vervallen:REDEN."
        )
    if outcome == "bereikt":
        return MilestoneClosing(int(key), "bereikt", iso_date(extra or None, "--milestone"))
    if outcome == "vervallen":
        return MilestoneClosing(int(key), "vervallen", None, extra)
    raise InvalidInput(f"--milestone '{value[:60]}': de uitkomst is bereikt of vervallen.")


def sign(
    name: Name,
    organisations: Annotated[
        list[str],
        typer.Argument(help="De organisaties die tekenden (één of meer), bv. SER FNV."),
    ],
    by: Annotated[str, typer.Option("--by", help="Wie legt dit vast.")],
    on: Annotated[
        str | None, typer.Option("--on", help="Datum van ondertekening (JJJJ-MM-DD).")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Toelichting bij de ondertekening.")] = "",
    add_as_party: Annotated[
        bool,
        typer.Option("--add-as-party", help="Voeg een ondertekenaar die nog geen partij is toe."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Leg de ondertekening vast: nog niet getekend → naar Ondertekend, met de ondertekenaars."""
    app = app_from_env()
    result = signatures.sign(
        uow=app.uow(),
        definition=app.definition,
        covenant=name,
        organisations=tuple(organisations),
        signed_on=iso_date(on, "--on") or app.today(),
        actor=by,
        reason=reason,
        add_as_party=add_as_party,
        now=app.now(),
    )
    if as_json:
        dump_json(result)
        return
    step = "ondertekend" if result.moved else "extra ondertekenaars vastgelegd"
    out.print(
        f"[green]✓[/] {result.covenant} {step} op {result.signed_on.isoformat()} door "
        f"{', '.join(result.signed)} (versie {result.version})",
        highlight=False,
    )


def close_target(
    name: Name,
    target_id: Annotated[
        int, typer.Argument(help="Het nummer van de mijlpaal (de kolom ID bij de doelen).")
    ],
    by: Annotated[str, typer.Option("--by", help="Wie legt dit vast.")],
    reached: Annotated[bool, typer.Option("--reached", help="De mijlpaal is bereikt.")] = False,
    dropped: Annotated[bool, typer.Option("--dropped", help="De mijlpaal is vervallen.")] = False,
    on: Annotated[
        str | None, typer.Option("--on", help="Wanneer (JJJJ-MM-DD); standaard vandaag.")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Waarom (verplicht bij --dropped).")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Sluit een mijlpaal: bereikt (op een datum) of vervallen (met een reden)."""
    if reached == dropped:
        raise InvalidInput("Kies --reached of --dropped (één van beide).")
    app = app_from_env()
    result = close_milestone(
        uow=app.uow(),
        definition=app.definition,
        covenant=name,
        target_id=target_id,
        outcome="bereikt" if reached else "vervallen",
        on=iso_date(on, "--on"),
        reason=reason,
        actor=by,
        now=app.now(),
    )
    if as_json:
        dump_json(result)
        return
    out.print(
        f"[green]✓[/] {result.covenant}: mijlpaal '{result.milestone}' {result.outcome} op "
        f"{result.closed_on.isoformat()}",
        highlight=False,
    )
