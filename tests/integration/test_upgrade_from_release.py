"""Upgrading a database the previous release wrote: its records join the provable history.

tests/fixtures/release-0011.json holds every row of a database made by the issue-11 release
(schema 0011, commit d18a579): the 2016 seed, then Goud signed by FNV and Pax and moved to
ondertekend, that move's date corrected, a slipped target and a checkpoint. The test loads
those rows into a database at schema 0011, upgrades it as an operator would (`imvo db
upgrade`), and checks that every chain still holds, every covenant stands where it stood, and
the parties, signatures and texts kept outside the history before 0012 are now entries of it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select

from imvo_workflow.bootstrap import App
from imvo_workflow.db import migrate
from imvo_workflow.db import tables as t
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.domain.record import RecordKind, read_detail
from imvo_workflow.reports.progress import build_report
from imvo_workflow.services import audit, queries
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016, read_seed_file
from imvo_workflow.settings import Settings
from release import load_release


def test_the_release_database_upgrades_into_one_provable_history(
    empty_database_url: str, definition: WorkflowDefinition
) -> None:
    dump = load_release(empty_database_url)
    migrate.upgrade(empty_database_url)
    app = App(
        settings=Settings(database_url=empty_database_url, now="2017-07-02"), definition=definition
    )
    assert migrate.current_revision(app.engine) == migrate.head_revision()
    result = audit.verify(uow=app.uow(readonly=True))
    assert result.ok, result.problems
    assert (result.covenants, result.checkpoints) == (21, 1)

    with app.uow(readonly=True) as uow:
        status = {row.slug: row for row in queries.status(conn=uow.conn, today=app.today())}
        entries = uow.conn.execute(
            select(t.transition.c.covenant_id, t.transition.c.trigger, t.transition.c.detail)
            .where(t.transition.c.actor == "migratie 0013")
            .order_by(t.transition.c.covenant_id, t.transition.c.seq)
        ).all()
        notes = uow.conn.execute(select(func.count()).select_from(t.note)).scalar_one()
        names = uow.conn.execute(select(func.count()).select_from(t.organisation_name)).scalar_one()
    app.close()

    # Where every covenant stood is unchanged: Goud signed on the corrected date.
    assert (status["goud"].stage, status["goud"].since) == ("ondertekend", date(2017, 6, 19))
    assert status["natuursteen"].next_target is not None
    assert status["natuursteen"].next_target.deadline == date(2017, 12, 31)
    # One entry per party, per signature and per covenant text the release kept.
    kinds = Counter(kind for _, kind, _ in entries)
    tables = dump["tables"]
    assert kinds[RecordKind.PARTY_JOINED] == len(tables["participation"]["rows"])
    assert kinds[RecordKind.SIGNATURE] == len(tables["signature"]["rows"]) == 2
    summary = tables["covenant"]["columns"].index("summary")
    with_text = [row for row in tables["covenant"]["rows"] if row[summary].strip()]
    assert kinds[RecordKind.NOTE] == notes == len(with_text)
    signed = sorted(
        read_detail(detail)["organisation"]
        for _, kind, detail in entries
        if kind == RecordKind.SIGNATURE
    )
    assert signed == ["FNV", "Pax"]
    assert names == len(tables["organisation"]["rows"])


def test_a_database_seeded_from_the_earlier_reading_gets_the_seed_fixes(
    empty_database_url: str, definition: WorkflowDefinition
) -> None:
    """Issue 13: `imvo seed` on the release's database appends what the revised seed reads
    differently (dates, roles, Energie's milestone) as entries; a coordinator's later changes
    stay; a second run finds nothing; the chains still verify."""
    load_release(empty_database_url)
    migrate.upgrade(empty_database_url)
    app = App(
        settings=Settings(database_url=empty_database_url, now="2017-07-02"), definition=definition
    )
    data = read_seed_file(SEED_2016)
    first = seed(uow=app.uow(), definition=definition, path=SEED_2016, now=app.now())
    again = seed(uow=app.uow(), definition=definition, path=SEED_2016, now=app.now())
    assert (first.covenants_added, again.revisions) == (0, 0)
    assert first.revisions > 0
    result = audit.verify(uow=app.uow(readonly=True))
    assert result.ok, result.problems
    pa, o, c, tg = t.participation, t.organisation, t.covenant, t.target
    with app.uow(readonly=True) as uow:
        roles = {
            (r.slug, r.name): r.role
            for r in uow.conn.execute(
                select(c.c.slug, o.c.name, pa.c.role)
                .join(pa, pa.c.covenant_id == c.c.id)
                .join(o, o.c.id == pa.c.organisation_id)
                .where(pa.c.until.is_(None))
            )
        }
        energie = uow.conn.execute(
            select(tg.c.stage, tg.c.milestone, tg.c.status)
            .join(c, c.c.id == tg.c.covenant_id)
            .where(c.c.slug == "energie")
            .order_by(tg.c.id)
        ).all()
        status = {row.slug: row for row in queries.status(conn=uow.conn, today=app.today())}
        goud = queries.history(conn=uow.conn, covenant="goud")
        revised = uow.conn.execute(
            select(t.transition.c.reason).where(t.transition.c.actor == "seed").distinct()
        ).scalars()
        reasons = set(revised)
    assert roles[("goud", "FGZ")] == "partij"
    assert roles[("groothandel", "MVO Nederland")] == "betrokken"
    assert roles[("duurzame-eiwitten", "MVO Nederland")] == "betrokken"
    assert roles[("olie-en-gas", "Kabinet")] == roles[("olie-en-gas", "NCP")] == "betrokken"
    assert [(s, m is not None, st) for s, m, st in energie] == [
        ("kwartiermaker", False, "cancelled"),
        (None, True, "open"),
    ]
    # the opening and the intentieverklaring corrected to "eind 2015"'s first day; the
    # coordinator's signing (and its own correction) stays
    corrected = {h.corrects_seq: h.occurred_on for h in goud if h.corrects_seq is not None}
    assert {seq: corrected.get(seq) for seq in (1, 2)} == {
        1: date(2015, 10, 1),
        2: date(2015, 10, 1),
    }
    assert (status["goud"].stage, status["goud"].since) == ("ondertekend", date(2017, 6, 19))
    assert status["natuursteen"].next_target is not None
    assert status["natuursteen"].next_target.phrase == "eind 2017"
    assert data.revised in reasons
    assert any(reason.startswith('Seed herzien (issue 13): "Na het tekenen') for reason in reasons)
    report = build_report(uow=app.uow(readonly=True), definition=definition, as_of=data.report_date)
    app.close()
    entries = [e for _, g in report.groups for e in g if e.status is not None]
    assert len(entries) == 21
    assert [e.heading for e in entries if e.status.overdue] == []
