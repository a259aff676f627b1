"""The 2016 progress report as seed data: complete, faithful to the document, idempotent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.replay import replay
from imvo_workflow.services import queries
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016

#: Stage of every covenant process as of the report (1 November 2016), per the document.
REPORT_STAGES = {
    "bouw": "afgezien",
    "natuursteen": "dialoog",
    "chemie": "verkenning",
    "detailhandel": "afgezien",
    "goud": "dialoog",
    "energie": "verkenning",
    "pensioensector": "verkenning",
    "verzekeringssector": "dialoog",
    "groothandel": "dialoog",
    "houtsector": "dialoog",
    "land-en-tuinbouw": "dialoog",
    "sierteeltsector": "dialoog",
    "duurzame-eiwitten": "verkenning",
    "plantaardige-uitgangsmaterialen": "verkenning",
    "metallurgische-industrie": "kwartiermaker",
    "technologische-industrie": "verkenning",
    "olie-en-gas": "verkenning",
    "voedingsmiddelen": "dialoog",
    "scheepvaart": "verkenning",
    "toerisme": "verkenning",
    "toerisme-suriname": "verkenning",
}


def _counts(app: App) -> dict[str, int]:
    with app.uow(readonly=True) as uow:
        return {
            table.name: uow.conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (
                t.sector,
                t.organisation,
                t.covenant,
                t.participation,
                t.transition,
                t.target,
            )
        }


def test_seed_holds_every_covenant_of_the_report_in_its_stage(app: App) -> None:
    report = seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    assert report.covenants_added == len(REPORT_STAGES)
    with app.uow(readonly=True) as uow:
        rows = queries.status(conn=uow.conn, today=date(2016, 11, 1))
    assert {r.slug: r.stage for r in rows} == REPORT_STAGES
    by_slug = {r.slug: r for r in rows}
    assert by_slug["toerisme-suriname"].parent == "toerisme"
    assert by_slug["natuursteen"].next_target is not None
    assert by_slug["natuursteen"].next_target.phrase == "Q1 van 2017"
    assert by_slug["natuursteen"].next_target.deadline == date(2017, 3, 31)
    assert by_slug["goud"].next_target.deadline == date(2017, 2, 28)  # type: ignore[union-attr]
    assert by_slug["chemie"].next_target.period_start == date(2016, 11, 16)  # type: ignore[union-attr]


def test_seed_sectors_groups_and_parents(app: App) -> None:
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    s, p = t.sector, t.sector.alias("p")
    with app.uow(readonly=True) as uow:
        rows = uow.conn.execute(
            select(s.c.slug, s.c.group, p.c.slug).outerjoin(p, p.c.id == s.c.parent_id)
        ).all()
    parents = {slug: parent for slug, _group, parent in rows}
    groups = {slug: group for slug, group, _parent in rows}
    assert parents["pensioensector"] == parents["verzekeringssector"] == "financiele-sector"
    assert (
        parents["metallurgische-industrie"]
        == parents["technologische-industrie"]
        == "metaal-elektronica"
    )
    assert groups["scheepvaart"] == groups["toerisme"] == "overige"
    assert groups["natuursteen"] == "risicosector"


def test_seeded_histories_replay_to_the_stored_stage(app: App) -> None:
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    with app.uow(readonly=True) as uow:
        for row in queries.status(conn=uow.conn, today=date(2016, 11, 1)):
            assert (
                replay(queries.history(conn=uow.conn, covenant=row.slug), app.definition)
                == row.stage
            )
        goud = queries.history(conn=uow.conn, covenant="goud")
    signed = next(h for h in goud if h.to_stage == "intentieverklaring")
    assert signed.occurred_on.year == 2015 and signed.recorded_at.year == 2016


def test_seed_twice_changes_nothing(app: App) -> None:
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    before = _counts(app)
    again = seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    assert again.covenants_added == 0 and again.covenants_present == len(REPORT_STAGES)
    assert _counts(app) == before
