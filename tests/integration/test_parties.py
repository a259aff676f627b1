"""Processes, organisations and parties over time, on both databases.

Every change is an entry in the covenant's chain (who, when recorded, when it happened, why),
written with its projection rows in one transaction; parties on a day are the fold of those
entries, as they happened (as of) and as the database knew them (known at). Every refusal
names what was wrong and writes nothing. The real case: six NGOs left the food-products talks
(voedingsmiddelen) in 2017.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from helpers import closing_uow
from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.errors import (
    DomainError,
    InvalidInput,
    NotFound,
    RequirementMissing,
    UnknownStage,
)
from imvo_workflow.domain.record import RecordKind, read_detail
from imvo_workflow.reports.progress import build_report
from imvo_workflow.services import audit, history
from imvo_workflow.services.organisations import (
    create_organisation,
    list_organisations,
    rename_organisation,
)
from imvo_workflow.services.parties import (
    PartyOverview,
    add_party,
    parties_on,
    party_leaves,
    party_overview,
)
from imvo_workflow.services.processes import open_process, start_stages
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016

NGOS = [f"Ngo {letter}" for letter in "ABCDEF"]
JAN_2017 = datetime(2017, 1, 10, 10, 0, tzinfo=AMSTERDAM)
SEP_2017 = datetime(2017, 9, 1, 10, 0, tzinfo=AMSTERDAM)
TABLES = (
    t.transition,
    t.participation,
    t.organisation,
    t.organisation_name,
    t.covenant,
    t.sector,
)


@pytest.fixture
def seeded(app: App) -> App:
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    return app


def counts(app: App) -> dict[str, Any]:
    with app.uow(readonly=True) as uow:
        found: dict[str, Any] = {
            table.name: uow.conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in TABLES
        }
        found["versions"] = tuple(
            uow.conn.execute(select(t.covenant.c.version).order_by(t.covenant.c.id)).scalars()
        )
        found["until"] = tuple(
            uow.conn.execute(select(t.participation.c.until).order_by(t.participation.c.id))
        )
    return found


def refused(app: App, error: type[DomainError], action: Any, **kwargs: Any) -> str:
    """Run `action`; assert it is refused with `error` and that nothing was written."""
    before = counts(app)
    with closing_uow(app) as uow, pytest.raises(error) as caught:
        action(uow=uow, **kwargs)
    assert counts(app) == before
    return caught.value.message


def overview(
    app: App, covenant: str, day: date | None = None, known_at: bool = False
) -> PartyOverview:
    with app.uow(readonly=True) as uow:
        return party_overview(conn=uow.conn, covenant=covenant, day=day, known_at=known_at)


def add(app: App, covenant: str, organisation: str, **kwargs: Any) -> Any:
    args = {"role": "partij", "since": date(2016, 9, 1), "actor": "A. de Vries"} | kwargs
    return add_party(
        uow=app.uow(),
        definition=app.definition,
        covenant=covenant,
        organisation=organisation,
        now=app.now(),
        **args,
    )


def new_org(app: App, name: str, kind: str = "ngo") -> int:
    return create_organisation(
        uow=app.uow(), name=name, kind=kind, actor="A. de Vries", now=app.now()
    ).id


# -- the seed --------------------------------------------------------------------------


def test_the_seed_records_a_join_entry_for_every_party_it_loads(seeded: App) -> None:
    with seeded.uow(readonly=True) as uow:
        parties = uow.conn.execute(select(func.count()).select_from(t.participation)).scalar_one()
        joins = uow.conn.execute(
            select(t.transition.c.detail, t.transition.c.occurred_on).where(
                t.transition.c.trigger == RecordKind.PARTY_JOINED.value
            )
        ).all()
        covenant_id = uow.conn.execute(
            select(t.covenant.c.id).where(t.covenant.c.slug == "voedingsmiddelen")
        ).scalar_one()
        views = parties_on(uow.conn, covenant_id, None, None)
    assert len(joins) == parties > 0
    assert {read_detail(d)["organisation"] for d, _ in joins} >= {"FNLI", "SER", "CBL"}
    assert [(v.name, v.role, v.since) for v in views] == [
        ("FNLI", "trekker", date(2016, 9, 1)),
        ("SER", "facilitator", date(2016, 9, 1)),
        ("CBL", "partij", date(2016, 9, 1)),
        ("IDH", "partij", date(2016, 9, 1)),
        ("NVS", "partij", date(2016, 9, 1)),
    ]
    assert audit.verify(uow=seeded.uow(readonly=True)).ok


def test_unnamed_participants_are_kept_and_shown(seeded: App) -> None:
    found = overview(seeded, "verzekeringssector")
    assert [p.name for p in found.current] == ["Verbond van Verzekeraars", "SER"]
    assert found.unnamed == [
        "Naast het Verbond van Verzekeraars nemen een vakbond en verschillende NGO's deel als partij."
    ]
    assert "verschillende NGO's" in overview(seeded, "voedingsmiddelen").unnamed[0]
    assert overview(seeded, "chemie").unnamed == []


# -- the real case ---------------------------------------------------------------------


def test_six_ngos_leave_the_food_products_talks_in_2017(seeded: App) -> None:
    for name in NGOS:
        new_org(seeded, name)
        add(seeded, "voedingsmiddelen", name, since=date(2016, 9, 1))
    reason = "De ngo's stappen uit de onderhandelingen over het convenant Voedingsmiddelen."
    for name in NGOS:
        party_leaves(
            uow=seeded.uow(),
            definition=seeded.definition,
            covenant="voedingsmiddelen",
            organisation=name,
            until=date(2017, 6, 1),
            reason=reason,
            actor="A. de Vries",
            now=SEP_2017,
        )
    end_2016 = overview(seeded, "voedingsmiddelen", date(2016, 12, 31))
    assert set(NGOS) <= {p.name for p in end_2016.current}
    assert end_2016.past == []
    end_2017 = overview(seeded, "voedingsmiddelen", date(2017, 12, 31))
    assert not set(NGOS) & {p.name for p in end_2017.current}
    assert {p.name: (p.since, p.until, p.left_reason) for p in end_2017.past} == {
        name: (date(2016, 9, 1), date(2017, 6, 1), reason) for name in NGOS
    }
    assert {p.name for p in end_2017.current} == {"FNLI", "SER", "CBL", "IDH", "NVS"}
    # Known at 1 July 2017: the leave happened on 1 June, but was entered in September.
    known = overview(seeded, "voedingsmiddelen", date(2017, 7, 1), known_at=True)
    assert set(NGOS) <= {p.name for p in known.current} and known.past == []
    # As of that day, with what we know now: they had left.
    assert {p.name for p in overview(seeded, "voedingsmiddelen", date(2017, 7, 1)).past} == set(
        NGOS
    )
    # Now: the same as the end of 2017; the chain holds every step and verifies.
    assert {p.name for p in overview(seeded, "voedingsmiddelen").past} == set(NGOS)
    with seeded.uow(readonly=True) as uow:
        rows = history_of(uow.conn, "voedingsmiddelen")
    left = [r for r in rows if r.trigger == RecordKind.PARTY_LEFT.value]
    assert len(left) == 6
    assert {(r.occurred_on, r.reason, r.actor) for r in left} == {
        (date(2017, 6, 1), reason, "A. de Vries")
    }
    assert all(r.recorded_at.year == 2017 and r.recorded_at.month == 9 for r in left)
    assert audit.verify(uow=seeded.uow(readonly=True)).ok


def history_of(conn: Any, slug: str) -> list[Any]:
    covenant_id = history.read_head(conn, slug).covenant_id
    tr = t.transition
    return list(conn.execute(select(tr).where(tr.c.covenant_id == covenant_id).order_by(tr.c.seq)))


def test_a_correction_of_a_leave_moves_it_in_the_as_of_view(seeded: App) -> None:
    new_org(seeded, "Ngo A")
    add(seeded, "voedingsmiddelen", "Ngo A")
    left = party_leaves(
        uow=seeded.uow(),
        definition=seeded.definition,
        covenant="voedingsmiddelen",
        organisation="Ngo A",
        until=date(2016, 10, 1),
        reason="uitgestapt",
        actor="A",
        now=seeded.now(),
    )
    audit.correct(
        uow=seeded.uow(),
        covenant="voedingsmiddelen",
        seq=left.seq,
        actor="B",
        reason="het was eind oktober",
        occurred_on=date(2016, 10, 28),
        now=seeded.now(),
    )
    assert "Ngo A" in {
        p.name for p in overview(seeded, "voedingsmiddelen", date(2016, 10, 15)).current
    }
    past = overview(seeded, "voedingsmiddelen", date(2016, 10, 31)).past
    assert [(p.name, p.until, p.left_reason) for p in past] == [
        ("Ngo A", date(2016, 10, 28), "het was eind oktober")
    ]


# -- parties: what is refused ----------------------------------------------------------


def test_a_party_can_leave_and_join_again_later(seeded: App) -> None:
    new_org(seeded, "Ngo A")
    add(seeded, "natuursteen", "Ngo A", since=date(2016, 9, 1))
    party_leaves(
        uow=seeded.uow(),
        definition=seeded.definition,
        covenant="natuursteen",
        organisation="Ngo A",
        until=date(2016, 9, 15),
        reason="even niet",
        actor="A",
        now=seeded.now(),
    )
    again = add(seeded, "natuursteen", "Ngo A", since=date(2016, 10, 1))
    assert again.since == date(2016, 10, 1)
    found = overview(seeded, "natuursteen")
    assert [(p.name, p.since) for p in found.current if p.name == "Ngo A"] == [
        ("Ngo A", date(2016, 10, 1))
    ]
    assert [(p.name, p.until) for p in found.past] == [("Ngo A", date(2016, 9, 15))]


def test_add_party_refusals_write_nothing(seeded: App) -> None:
    new_org(seeded, "Ngo A")
    add(seeded, "natuursteen", "Ngo A", since=date(2016, 9, 1))
    base = {
        "definition": seeded.definition,
        "covenant": "natuursteen",
        "role": "partij",
        "since": date(2016, 10, 1),
        "actor": "A",
        "now": seeded.now(),
    }
    message = refused(seeded, NotFound, add_party, **base | {"organisation": "Ngo Z"})
    assert "Ngo A" in message  # suggested
    refused(
        seeded, NotFound, add_party, **base | {"organisation": "Ngo A", "covenant": "natuursten"}
    )
    message = refused(seeded, InvalidInput, add_party, **base | {"organisation": "Ngo A"})
    assert "al partij" in message
    refused(seeded, InvalidInput, add_party, **base | {"organisation": "SER", "role": "baas"})
    future = refused(
        seeded,
        InvalidInput,
        add_party,
        **base | {"organisation": "SER", "since": date(2016, 11, 2)},
    )
    assert "toekomst" in future
    refused(
        seeded, InvalidInput, add_party, **base | {"organisation": "SER", "since": date(1066, 1, 1)}
    )
    before_open = refused(
        seeded, InvalidInput, add_party, **base | {"organisation": "SER", "since": date(2015, 1, 1)}
    )
    assert "geopend" in before_open
    refused(seeded, InvalidInput, add_party, **base | {"organisation": "SER", "actor": "x" * 201})
    refused(seeded, InvalidInput, add_party, **base | {"organisation": "SER", "reason": "a\x1bb"})
    refused(seeded, InvalidInput, add_party, **base | {"organisation": "Ngo\x00A"})


def test_leave_refusals_write_nothing(seeded: App) -> None:
    new_org(seeded, "Ngo A")
    add(seeded, "natuursteen", "Ngo A", since=date(2016, 9, 1))
    base = {
        "definition": seeded.definition,
        "covenant": "natuursteen",
        "organisation": "Ngo A",
        "until": date(2016, 10, 1),
        "reason": "weg",
        "actor": "A",
        "now": seeded.now(),
    }
    early = refused(seeded, InvalidInput, party_leaves, **base | {"until": date(2016, 8, 31)})
    assert "daarvóór" in early
    refused(seeded, InvalidInput, party_leaves, **base | {"until": date(2016, 11, 2)})
    refused(seeded, RequirementMissing, party_leaves, **base | {"reason": " "})
    refused(seeded, InvalidInput, party_leaves, **base | {"reason": "x" * 2001})
    refused(seeded, NotFound, party_leaves, **base | {"organisation": "Goud"})
    refused(seeded, NotFound, party_leaves, **base | {"organisation": "FNLI"})  # not in natuursteen
    refused(
        seeded, NotFound, party_leaves, **base | {"organisation": None, "participation_id": 2**63}
    )
    refused(seeded, InvalidInput, party_leaves, **base | {"role": "eigenaar"})
    party_leaves(uow=seeded.uow(), **base)
    twice = refused(seeded, InvalidInput, party_leaves, **base)
    assert "al vertrokken" in twice


# -- organisations ---------------------------------------------------------------------


def test_an_organisation_is_created_with_a_kind_and_renamed_with_its_old_name_kept(
    seeded: App,
) -> None:
    new_org(seeded, "Ngo A")
    add(seeded, "natuursteen", "Ngo A")
    add(seeded, "goud", "Ngo A", role="betrokken")
    versions = {s: version(seeded, s) for s in ("natuursteen", "goud", "chemie")}
    result = rename_organisation(
        uow=seeded.uow(),
        definition=seeded.definition,
        organisation="Ngo A",
        new_name="Ngo Alfa",
        reason="Fusie",
        actor="A. de Vries",
        now=seeded.now(),
    )
    assert (result.old_name, result.new_name, sorted(result.covenants)) == (
        "Ngo A",
        "Ngo Alfa",
        ["goud", "natuursteen"],
    )
    assert version(seeded, "natuursteen") == versions["natuursteen"] + 1
    assert version(seeded, "goud") == versions["goud"] + 1
    assert version(seeded, "chemie") == versions["chemie"]
    with seeded.uow(readonly=True) as uow:
        listed = {o.name: o for o in list_organisations(conn=uow.conn)}
        renamed = [
            read_detail(r.detail)
            for r in history_of(uow.conn, "natuursteen")
            if r.trigger == RecordKind.ORGANISATION_RENAMED.value
        ]
    assert listed["Ngo Alfa"].former_names == ["Ngo A"] and listed["Ngo Alfa"].covenants == 2
    assert renamed == [
        {"organisation_id": result.organisation_id, "old_name": "Ngo A", "new_name": "Ngo Alfa"}
    ]
    assert "Ngo Alfa" in {p.name for p in overview(seeded, "natuursteen").current}
    assert audit.verify(uow=seeded.uow(readonly=True)).ok


def version(app: App, slug: str) -> int:
    with app.uow(readonly=True) as uow:
        return history.read_head(uow.conn, slug).version


def test_organisation_refusals_write_nothing(seeded: App) -> None:
    base = {"kind": "ngo", "actor": "A", "now": seeded.now()}
    refused(seeded, InvalidInput, create_organisation, **base | {"name": "ser"})  # taken
    refused(
        seeded, InvalidInput, create_organisation, **base | {"name": "Nieuw", "kind": "bedrijf"}
    )
    refused(seeded, RequirementMissing, create_organisation, **base | {"name": " "})
    refused(seeded, InvalidInput, create_organisation, **base | {"name": "x" * 201})
    refused(seeded, InvalidInput, create_organisation, **base | {"name": "a\nb"})
    ren = {
        "definition": seeded.definition,
        "organisation": "SER",
        "new_name": "SER 2",
        "reason": "x",
        "actor": "A",
        "now": seeded.now(),
    }
    assert "SER" in refused(seeded, NotFound, rename_organisation, **ren | {"organisation": "SERR"})
    refused(seeded, NotFound, rename_organisation, **ren | {"organisation": 2**64})
    refused(seeded, InvalidInput, rename_organisation, **ren | {"new_name": "FNV"})
    refused(seeded, RequirementMissing, rename_organisation, **ren | {"reason": ""})
    refused(seeded, InvalidInput, rename_organisation, **ren | {"new_name": "S\x7fR"})


# -- processes -------------------------------------------------------------------------


def test_a_process_opens_in_a_new_sector_in_a_later_stage_in_the_past(seeded: App) -> None:
    result = open_process(
        uow=seeded.uow(),
        definition=seeded.definition,
        title="IMVO-convenant Textiel",
        new_sector="Textiel",
        group="risicosector",
        stage="dialoog",
        started_on=date(2016, 3, 1),
        summary="Kleding en textiel.",
        actor="A. de Vries",
        now=seeded.now(),
    )
    assert (result.slug, result.stage, result.version, result.sector) == (
        "imvo-convenant-textiel",
        "dialoog",
        2,
        "Textiel",
    )
    with seeded.uow(readonly=True) as uow:
        rows = history_of(uow.conn, result.slug)
    assert [(r.from_stage, r.to_stage, r.occurred_on) for r in rows] == [
        (None, "verkenning", date(2016, 3, 1)),
        ("verkenning", "dialoog", date(2016, 3, 1)),
    ]
    assert audit.verify(uow=seeded.uow(readonly=True)).ok


def test_a_sub_covenant_opens_under_its_parent_in_its_sector(seeded: App) -> None:
    result = open_process(
        uow=seeded.uow(),
        definition=seeded.definition,
        title="Subconvenant Toerisme Kenia",
        slug="toerisme-kenia",
        parent="toerisme",
        stage="verkenning",
        started_on=date(2016, 10, 1),
        actor="A",
        now=seeded.now(),
    )
    assert (result.slug, result.parent, result.sector, result.version) == (
        "toerisme-kenia",
        "toerisme",
        "Toerisme",
        1,
    )


def test_process_refusals_write_nothing(seeded: App) -> None:
    assert start_stages(seeded.definition) == [
        "verkenning",
        "kwartiermaker",
        "dialoog",
        "intentieverklaring",
        "afgezien",
    ]
    base = {
        "definition": seeded.definition,
        "title": "Nieuw proces",
        "sector": "chemie",
        "stage": "verkenning",
        "started_on": date(2016, 10, 1),
        "actor": "A",
        "now": seeded.now(),
    }
    assert "toekomst" in refused(
        seeded, InvalidInput, open_process, **base | {"started_on": date(2016, 11, 2)}
    )
    assert "startfasen" in refused(
        seeded, InvalidInput, open_process, **base | {"stage": "ondertekend"}
    )
    refused(seeded, UnknownStage, open_process, **base | {"stage": "dialog"})
    refused(seeded, NotFound, open_process, **base | {"parent": "toerism"})
    refused(seeded, NotFound, open_process, **base | {"sector": "chemi"})
    refused(seeded, InvalidInput, open_process, **base | {"title": "IMVO-convenant Natuursteen"})
    refused(seeded, InvalidInput, open_process, **base | {"slug": "natuursteen"})
    refused(seeded, InvalidInput, open_process, **base | {"title": "x" * 201})
    refused(seeded, InvalidInput, open_process, **base | {"title": "a\tb"})
    refused(seeded, InvalidInput, open_process, **base | {"summary": "a\x00b"})
    refused(seeded, RequirementMissing, open_process, **base | {"new_sector": "Textiel"})
    refused(
        seeded,
        InvalidInput,
        open_process,
        **base | {"sector": None, "new_sector": "Chemie", "group": "overige"},
    )
    refused(
        seeded,
        InvalidInput,
        open_process,
        **base | {"sector": None, "new_sector": "Textiel", "group": "x"},
    )
    refused(seeded, InvalidInput, open_process, **base | {"started_on": date(1800, 1, 1)})
    # afgezien asks for a reason, as its move does
    refused(seeded, RequirementMissing, open_process, **base | {"stage": "afgezien"})


def test_the_report_lists_the_parties_on_its_date(seeded: App) -> None:
    for name in NGOS[:2]:
        new_org(seeded, name)
        add(seeded, "voedingsmiddelen", name)
        party_leaves(
            uow=seeded.uow(),
            definition=seeded.definition,
            covenant="voedingsmiddelen",
            organisation=name,
            until=date(2017, 6, 1),
            reason="uitgestapt",
            actor="A",
            now=SEP_2017,
        )

    def parties(day: date, known_at: bool = False) -> tuple[str, ...]:
        built = build_report(
            uow=seeded.uow(readonly=True),
            definition=seeded.definition,
            as_of=day,
            known_at=known_at,
        )
        entry = next(
            e for _, entries in built.groups for e in entries
            if e.status is not None and e.status.slug == "voedingsmiddelen"
        )  # fmt: skip
        return entry.parties

    assert parties(date(2016, 12, 31)) == ("CBL", "IDH", "NVS", *NGOS[:2])
    assert parties(date(2017, 12, 31)) == ("CBL", "IDH", "NVS")
    assert parties(date(2017, 7, 1), known_at=True) == ("CBL", "IDH", "NVS", *NGOS[:2])


def test_legacy_parties_come_first_by_id_then_those_that_joined_in_their_order(
    seeded: App,
) -> None:
    """Participations no entry speaks of (rows from before the chain kept parties) joined
    before any entry: they are listed first, in the order they were stored, then the parties
    that joined by an entry, in the order they joined."""
    new_org(seeded, "Ngo Later")
    add(seeded, "natuursteen", "Ngo Later")
    first, second = new_org(seeded, "Oud B"), new_org(seeded, "Oud A")
    with closing_uow(seeded) as uow, uow:
        cid = uow.conn.execute(
            select(t.covenant.c.id).where(t.covenant.c.slug == "natuursteen")
        ).scalar_one()
        for org in (first, second):
            uow.conn.execute(
                t.participation.insert().values(
                    covenant_id=cid, organisation_id=org, role="partij", since=date(2015, 1, 1)
                )
            )
        uow.commit()
    names = [p.name for p in overview(seeded, "natuursteen").current]
    assert names[:2] == ["Oud B", "Oud A"]
    assert names[-1] == "Ngo Later"
    with closing_uow(seeded) as uow:
        report = build_report(uow=uow, definition=seeded.definition, as_of=date(2016, 11, 1))
    (entry,) = [e for _, es in report.groups for e in es if e.covenant_id == cid]
    assert entry.parties[:2] == ("Oud B", "Oud A") and entry.parties[-1] == "Ngo Later"
