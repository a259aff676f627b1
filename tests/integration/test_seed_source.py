"""The seed holds what the 2016 annex says, sentence by sentence (issue 13, point 4).

Each claim quotes the annex (tests/fixtures/voortgang-imvo-convenanten-2016.txt, the source
of data/voortgang-2016.yaml) and names what the seeded record must then hold: a role only
where the annex states one, a milestone where it plans a step rather than a stage, a date by
the seed file's own reading rules. The quotes are checked against the source itself, so a
claim cannot drift from the words it rests on. And the report regenerated for the report's
date marks nothing late: every date the annex gives is still ahead of it or met.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy import select

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.domain.periods import resolve_period
from imvo_workflow.reports.progress import build_report
from imvo_workflow.reports.render import render
from imvo_workflow.services import queries
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016, read_seed_file

SOURCE = Path(__file__).resolve().parents[1] / "fixtures" / "voortgang-imvo-convenanten-2016.txt"
DATA = read_seed_file(SEED_2016)

#: (covenant, sentence of the annex, organisation, the roles it must hold there: none = absent)
ROLES = [
    (
        "goud",
        "Organisaties die zich inzetten om het convenant voor elkaar te krijgen zijn de "
        "Branchevereniging Federatie Goud en Zilver (FGZ), individuele bedrijven",
        "FGZ",
        {"partij"},
    ),
    (
        "groothandel",
        "Een eerste stakeholdersbijeenkomst heeft onlangs bij MVO Nederland plaatsgevonden.",
        "MVO Nederland",
        {"betrokken"},
    ),
    (
        "duurzame-eiwitten",
        "Brancheorganisatie Platform Nieuwe Eiwitproducten (Het Planeet) is namens haar leden "
        "en in samenwerking met MVO Nederland het initiatief gestart",
        "MVO Nederland",
        {"betrokken"},
    ),
    (
        "duurzame-eiwitten",
        "Brancheorganisatie Platform Nieuwe Eiwitproducten (Het Planeet) is namens haar leden "
        "en in samenwerking met MVO Nederland het initiatief gestart",
        "Het Planeet",
        {"trekker"},
    ),
    (
        "olie-en-gas",
        "Het kabinet heeft het Nederlandse Nationaal Contactpunt voor de OESO-richtlijnen (NCP) "
        "25 oktober verzocht onderzoek te doen naar de mate waarin de sector de OESO-richtlijnen "
        "voor multinationale ondernemingen implementeert.",
        "Kabinet",
        {"betrokken"},
    ),
    (
        "olie-en-gas",
        "Het kabinet heeft het Nederlandse Nationaal Contactpunt voor de OESO-richtlijnen (NCP) "
        "25 oktober verzocht onderzoek te doen",
        "NCP",
        {"betrokken"},
    ),
]
#: Covenants whose section states no trekker or no facilitator at all.
NO_TREKKER = {"goud", "olie-en-gas"}
NO_FACILITATOR = {"goud", "groothandel", "duurzame-eiwitten", "olie-en-gas"}
#: (covenant, sentence, milestone's first words, phrase): planned steps, not stage targets.
MILESTONES = [
    (
        "energie",
        "Eind 2016 wordt een voorstel gedaan voor het starten van een kwartiermakersfase voor "
        "een proces gericht op een mogelijk IMVO-convenant.",
        "Voorstel voor het starten van een kwartiermakersfase",
        "Eind 2016",
    ),
    (
        "metallurgische-industrie",
        "Tot eind oktober worden de VNMI-leden hierover geconsulteerd.",
        "Consultatie van de VNMI-leden",
        "eind oktober",
    ),
    (
        "technologische-industrie",
        "De FME verwacht op basis van het nog lopende onderzoek eind oktober een besluit te "
        "nemen over het al dan niet aangaan van de stakeholderdialoog.",
        "Besluit FME",
        "eind oktober",
    ),
]
GOUD_SIGNED_INTENT = "Na het tekenen van een intentieverklaring eind 2015"
WRITTEN_AFTER = "(NCP) 25 oktober verzocht onderzoek te doen"


def _flat(text: str) -> str:
    joined = re.sub(r"-[ \t]*\n\s*", "-", text.replace("’", "'"))  # "OESO-⏎richtlijnen"
    return re.sub(r"\s+", " ", joined).strip()


def test_every_quote_is_the_annex_s_own_words() -> None:
    source = _flat(SOURCE.read_text(encoding="utf-8"))
    quotes = [q for _, q, _, _ in ROLES] + [q for _, q, _, _ in MILESTONES]
    for quote in [*quotes, GOUD_SIGNED_INTENT, WRITTEN_AFTER]:
        assert _flat(quote) in source, quote


def test_one_report_date_is_the_reference_of_every_phrase() -> None:
    # Written after the NCP request of 25 October, before "eind oktober" had passed.
    assert date(2016, 10, 25) <= DATA.report_date <= date(2016, 10, 31)
    assert DATA.reference_date == DATA.report_date
    assert all(
        target.reference in (None, DATA.report_date) for c in DATA.covenants for target in c.targets
    )
    for _, _, _, phrase in MILESTONES:
        period = resolve_period(phrase, DATA.reference_date)
        assert period.end >= DATA.report_date  # upcoming, not passed, on the report's date


def test_the_seeded_record_holds_what_the_annex_states(app: App) -> None:
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    pa, o, c, tg = t.participation, t.organisation, t.covenant, t.target
    with app.uow(readonly=True) as uow:
        roles: dict[tuple[str, str], set[str]] = {}
        for slug, name, role in uow.conn.execute(
            select(c.c.slug, o.c.name, pa.c.role)
            .join(pa, pa.c.covenant_id == c.c.id)
            .join(o, o.c.id == pa.c.organisation_id)
            .where(pa.c.until.is_(None))
        ):
            roles.setdefault((slug, name), set()).add(role)
        targets = uow.conn.execute(
            select(c.c.slug, tg.c.stage, tg.c.milestone, tg.c.phrase, tg.c.deadline).join(
                tg, tg.c.covenant_id == c.c.id
            )
        ).all()
        goud = queries.history(conn=uow.conn, covenant="goud")
    for slug, quote, organisation, wanted in ROLES:
        assert roles.get((slug, organisation), set()) == wanted, (slug, organisation, quote)
    for slug in NO_TREKKER:
        assert not any(r == {"trekker"} for (s, _), r in roles.items() if s == slug), slug
    for slug in NO_FACILITATOR:
        assert not any("facilitator" in r for (s, _), r in roles.items() if s == slug), slug
    for slug, quote, words, phrase in MILESTONES:
        found = [x for x in targets if x.slug == slug and (x.milestone or "").startswith(words)]
        assert [(x.stage, x.phrase) for x in found] == [(None, phrase)], quote
        assert found[0].deadline == resolve_period(phrase, DATA.reference_date).end
    assert not [x for x in targets if x.slug == "energie" and x.stage == "kwartiermaker"]
    # "eind 2015" is a period: rule 2 dates it on its first day, as DESIGN.md's table has it.
    eind_2015 = resolve_period("eind 2015", DATA.reference_date).start
    assert eind_2015 == date(2015, 10, 1)
    signed = next(h for h in goud if h.to_stage == "intentieverklaring")
    assert (goud[0].to_stage, goud[0].occurred_on) == ("verkenning", eind_2015)  # rule 4
    assert signed.occurred_on == eind_2015


def test_the_regenerated_report_marks_nothing_late(app: App) -> None:
    """On its own date the annex calls every target ahead: the report must not say late."""
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    report = build_report(
        uow=app.uow(readonly=True), definition=app.definition, as_of=DATA.report_date
    )
    entries = [e for _, group in report.groups for e in group if e.status is not None]
    assert len(entries) == len(DATA.covenants)
    late = [e.heading for e in entries if e.status.overdue]
    late += [
        f"{e.heading}: {tg.what}"
        for e in entries
        if e.record is not None
        for tg in e.record.targets
        if tg.overdue
    ]
    assert late == []
    for form in ("md", "html"):
        text = render(report, app.definition, form)
        assert "0 op tijd, 0 te laat" in text  # the summary's count of targets met late
        assert "te laat" not in re.sub(r"\d+ op tijd, \d+ te laat", "", text)
    # the day after, the two "eind oktober" milestones are late (nothing recorded them met)
    after = build_report(
        uow=app.uow(readonly=True), definition=app.definition, as_of=date(2016, 11, 1)
    )
    overdue = {e.status.slug for _, g in after.groups for e in g if e.status and e.status.overdue}
    assert overdue == {"metallurgische-industrie", "technologische-industrie"}
