"""A year of record-keeping after the 2016 report, made through the services (importable as
`report_year`: pytest puts tests/ on the path for its conftest.py).

Between the 2016 report (1 November 2016) and the next one (1 November 2017) coordinators
slip Chemie's target, add and lose parties of Voedingsmiddelen, sign Natuursteen (before its
deadline) and Goud (after it), rewrite Houtsector's note and set a new milestone for Land- en
tuinbouw. Each step runs on the day it happened (its `now`). The integration tests and the
browser test of the report read the same year.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.services.notes import write_note
from imvo_workflow.services.organisations import create_organisation
from imvo_workflow.services.parties import add_party, party_leaves
from imvo_workflow.services.signatures import sign
from imvo_workflow.services.targets import reset_target, set_target

PREVIOUS = date(2016, 11, 1)
NEXT = date(2017, 11, 1)
WHO = "M. Jansen"


def on(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=AMSTERDAM)


def target_id(app: App, covenant: str) -> int:
    tg, c = t.target, t.covenant
    with app.uow(readonly=True) as uow:
        return int(
            uow.conn.execute(
                select(tg.c.id)
                .join(c, c.c.id == tg.c.covenant_id)
                .where(c.c.slug == covenant, tg.c.status == "open")
                .order_by(tg.c.id)
            )
            .scalars()
            .first()
        )


def build_year(app: App) -> None:
    """The year 2016-11-01 .. 2017-11-01, on a database seeded with the 2016 report."""
    d = app.definition
    reset_target(
        uow=app.uow(), definition=d, covenant="chemie", target_id=target_id(app, "chemie"),
        phrase="Q2 2017", reference=date(2017, 1, 10), actor=WHO,
        reason="onderzoek VNCI loopt uit", now=on(date(2017, 1, 10)),
    )  # fmt: skip
    add_party(
        uow=app.uow(), definition=d, covenant="voedingsmiddelen", organisation="FNV",
        role="partij", since=date(2017, 2, 1), actor=WHO, now=on(date(2017, 2, 1)),
    )  # fmt: skip
    create_organisation(
        uow=app.uow(), name="NVN", kind="brancheorganisatie",
        full_name="Vereniging Natuursteen Nederland", actor=WHO, now=on(date(2017, 3, 1)),
    )  # fmt: skip
    add_party(
        uow=app.uow(), definition=d, covenant="natuursteen", organisation="NVN",
        role="partij", since=date(2017, 3, 1), actor=WHO, now=on(date(2017, 3, 1)),
    )  # fmt: skip
    sign(
        uow=app.uow(), definition=d, covenant="natuursteen", organisations=("NVN",),
        signed_on=date(2017, 3, 15), actor=WHO, now=on(date(2017, 3, 15)),
    )  # fmt: skip
    sign(
        uow=app.uow(), definition=d, covenant="goud", organisations=("RLG Europe",),
        signed_on=date(2017, 6, 19), actor=WHO, now=on(date(2017, 6, 19)),
    )  # fmt: skip
    party_leaves(
        uow=app.uow(), definition=d, covenant="voedingsmiddelen", organisation="NVS",
        until=date(2017, 9, 1), reason="uitgestapt", actor=WHO, now=on(date(2017, 9, 1)),
    )  # fmt: skip
    write_note(
        uow=app.uow(), definition=d, covenant="houtsector",
        text="De dialoog is hervat; VVNH en NBvT werken aan een tekst.\nTweede regel.",
        written_on=date(2017, 10, 1), actor=WHO, now=on(date(2017, 10, 1)),
    )  # fmt: skip
    set_target(
        uow=app.uow(), definition=d, covenant="land-en-tuinbouw", phrase="Q1 2018",
        reference=date(2017, 10, 5), milestone="Evaluatie", actor=WHO, now=on(date(2017, 10, 5)),
    )  # fmt: skip
