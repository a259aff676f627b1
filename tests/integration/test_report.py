"""The progress report for the report's date (31 October 2016) reads like the document it
was seeded from.

Built from the seeded 2016 data: the document's grouping and order, each covenant's stage,
next target in the document's own words with its date, the people involved, a summary that
accounts for all 21 covenants, and a timeline picture. The HTML is also opened in headless
chromium to check what a reader sees, on screen and on paper.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from imvo_workflow.bootstrap import App
from imvo_workflow.reports.progress import ProgressReport, build_report
from imvo_workflow.reports.render import render
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
REPORT_DAY = date(2016, 10, 31)  # the seed's report_date (issue 13)
SVG = "{http://www.w3.org/2000/svg}"

#: (level, heading, stage, next target phrase, its deadline, trekker, facilitator), as the
#: document has them; a stage of None is a heading without a covenant of its own.
Row = tuple[int, str, str | None, str | None, date | None, str, str]
DOCUMENT: list[tuple[str, list[Row]]] = [
    (
        "Risicosectoren",
        [
            (0, "Bouw", "Afgezien", None, None, "NABU", ""),
            (0, "Natuursteen", "Dialoog", "Q1 van 2017", date(2017, 3, 31), "", "SER"),
            (
                0,
                "Chemie",
                "Verkenning",
                "tweede helft november 2016",
                date(2016, 11, 30),
                "VNCI",
                "",
            ),
            (0, "Detailhandel", "Afgezien", None, None, "RND", ""),
            (0, "Goud", "Dialoog", "februari", date(2017, 2, 28), "", ""),
            (0, "Energie", "Verkenning", "Eind 2016", date(2016, 12, 31), "NVDE", ""),
            (0, "Financiële sector", None, None, None, "", ""),
            (1, "Pensioensector", "Verkenning", None, None, "Pensioenfederatie", "SER"),
            (
                1,
                "Verzekeringssector",
                "Dialoog",
                "begin 2017",
                date(2017, 3, 31),
                "Verbond van Verzekeraars",
                "SER",
            ),
            (0, "Groothandel", "Dialoog", "in 2017", date(2017, 12, 31), "NVG", ""),
            (0, "Houtsector", "Dialoog", "nog in 2016", date(2016, 12, 31), "", ""),
            (
                0,
                "Land- en tuinbouw",
                "Dialoog",
                "20 december 2016",
                date(2016, 12, 20),
                "LTO Nederland",
                "",
            ),
            (0, "Sierteeltsector", "Dialoog", "nog dit jaar", date(2016, 12, 31), "FSI", ""),
            (
                0,
                "Duurzame eiwitten",
                "Verkenning",
                "eind november",
                date(2016, 11, 30),
                "Het Planeet",
                "",
            ),
            (
                0,
                "Plantaardige uitgangsmaterialen",
                "Verkenning",
                "rond de zomer van 2017",
                date(2017, 8, 31),
                "Plantum",
                "",
            ),
            (0, "Metaal/elektronica", None, None, None, "", ""),
            (
                1,
                "Metallurgische industrie",
                "Kwartiermaker",
                "eind oktober",
                date(2016, 10, 31),
                "VNMI",
                "",
            ),
            (
                1,
                "Technologische industrie",
                "Verkenning",
                "eind oktober",
                date(2016, 10, 31),
                "FME-CWM",
                "",
            ),
            (0, "Olie en Gas", "Verkenning", "voorjaar 2017", date(2017, 5, 31), "", ""),
            (
                0,
                "Voedingsmiddelen",
                "Dialoog",
                "in het begin van 2017",
                date(2017, 3, 31),
                "FNLI",
                "SER",
            ),
        ],
    ),
    (
        "Overige sectoren",
        [
            (0, "Scheepvaart", "Verkenning", None, None, "KVNR", ""),
            (
                0,
                "Toerisme",
                "Verkenning",
                "eind 2016 of begin 2017",
                date(2017, 3, 31),
                "ANVR",
                "",
            ),
            (
                1,
                "Toerisme: subconvenant Suriname",
                "Verkenning",
                "In het eerste kwartaal van 2017",
                date(2017, 3, 31),
                "ANVR",
                "",
            ),
        ],
    ),
]
LANES = [row[1] for _, rows in DOCUMENT for row in rows if row[2] is not None]
GOUD_PARTIES = (
    "FGZ",
    "RLG Europe",
    "Lucardi",
    "Cookson Drijfhout",
    "Philips",
    "Fairphone",
    "Umicore",
    "SIMS",
    "Closing The Loop",
    "FNV",
    "Solidaridad",
    "FairTrade",
    "Pax",
    "Hivos",
    "Unicef",
    "IUCN",
    "Ministerie van Buitenlandse Zaken",
)


@pytest.fixture
def report(app: App) -> ProgressReport:
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    return build_report(uow=app.uow(readonly=True), definition=app.definition, as_of=REPORT_DAY)


def laid_out(report: ProgressReport) -> list[tuple[str, list[Row]]]:
    return [
        (
            title,
            [
                (
                    e.level,
                    e.heading,
                    e.stage_label or None,
                    e.status.next_target.phrase if e.status and e.status.next_target else None,
                    e.status.next_target.deadline if e.status and e.status.next_target else None,
                    e.trekker,
                    e.facilitator,
                )
                for e in entries
            ],
        )
        for title, entries in report.groups
    ]


def entry(report: ProgressReport, heading: str) -> Any:
    return next(e for _, entries in report.groups for e in entries if e.heading == heading)


def test_report_follows_the_document(report: ProgressReport) -> None:
    assert laid_out(report) == DOCUMENT


def test_report_names_the_parties(report: ProgressReport) -> None:
    assert entry(report, "Goud").parties == GOUD_PARTIES
    assert entry(report, "Olie en Gas").parties == ()
    assert entry(report, "Olie en Gas").involved == ("Kabinet", "NCP")
    assert entry(report, "Groothandel").involved == ("MVO Nederland",)
    assert entry(report, "Duurzame eiwitten").involved == ("MVO Nederland",)
    assert entry(report, "Voedingsmiddelen").parties == ("CBL", "IDH", "NVS")
    assert entry(report, "Houtsector").parties[:2] == ("VVNH", "NBvT")
    assert entry(report, "Bouw").parties == ()
    goud = entry(report, "Goud").status
    assert (goud.stage, goud.since, goud.overdue) == ("dialoog", date(2016, 1, 1), False)
    # the document's "eind oktober" is still ahead on the report's date (issue 13)
    assert entry(report, "Metallurgische industrie").status.overdue is False


def test_summary_accounts_for_every_covenant(report: ProgressReport, app: App) -> None:
    counts = {s.stage: s.covenants for s in report.stages}
    assert list(counts) == list(app.definition.stages)
    assert counts == {
        "verkenning": 10,
        "kwartiermaker": 1,
        "dialoog": 8,
        "intentieverklaring": 0,
        "ondertekend": 0,
        "afgezien": 2,
        "opgegaan": 0,
    }
    assert sum(counts.values()) == 21
    goud_in_intent = next(s for s in report.stages if s.stage == "intentieverklaring")
    # 1 October 2015 ("eind 2015", rule 2) to 1 January 2016
    assert (goud_in_intent.days_total, goud_in_intent.days_average) == (92, 92.0)
    assert {s.stage: s.color for s in report.stages} == {
        name: stage.color for name, stage in app.definition.stages.items()
    }


def test_timeline_draws_every_lane_in_the_stage_colours(report: ProgressReport, app: App) -> None:
    svg = ET.fromstring(report.timeline)
    texts = [el.text for el in svg.iter(f"{SVG}text")]
    labels = [el.text for el in svg.iter(f"{SVG}text") if el.get("text-anchor") == "end"]
    assert labels == LANES
    assert {"2015", "2016"} <= set(texts)
    assert [stage.label.nl for stage in app.definition.stages.values()] == texts[
        -len(app.definition.stages) :
    ]  # legend
    fills = {el.get("fill") for el in svg.iter(f"{SVG}rect")}
    assert {stage.color for stage in app.definition.stages.values()} <= fills
    colours = {name: stage.color for name, stage in app.definition.stages.items()}
    goud = [
        el.get("fill")
        for el in svg.iter(f"{SVG}rect")
        if (title := el.find(f"{SVG}title")) is not None and (title.text or "").startswith("Goud:")
    ]
    assert goud == [colours["verkenning"], colours["intentieverklaring"], colours["dialoog"]]


def test_markdown_report(report: ProgressReport, app: App) -> None:
    text = render(report, app.definition, "md")
    headings = [line for line in text.splitlines() if line.startswith("#")]
    # issue 13: the summary at the top; no change section without a since-date (it says so)
    expected = ["# Voortgang IMVO-convenanten", "## Samenvatting"]
    for title, rows in DOCUMENT:
        expected.append(f"## {title}")
        expected += [f"{'#' * (3 + level)} {heading}" for level, heading, *_ in rows]
    assert headings == expected
    assert "geen overzicht van wat er veranderd is" in text
    assert "Stand per 31-10-2016." in text
    assert 'fase ondertekend: "Q1 van 2017" (uiterlijk 31-03-2017)' in text
    assert 'fase ondertekend: "februari" (uiterlijk 28-02-2017)' in text
    assert '"tweede helft november 2016" (uiterlijk 30-11-2016)' in text
    assert "- **Fase:** Afgezien, sinds 31-10-2016" in text
    assert "- **Facilitator:** SER" in text
    assert "- **Betrokken:** Kabinet, NCP" in text
    # nothing the annex calls upcoming has passed (the summary counts targets met late: none)
    assert "te laat" not in re.sub(r"\d+ op tijd, \d+ te laat", "", text)
    summary = text.split("## Samenvatting", 1)[1].split("\n## ", 1)[0]
    table = [line for line in summary.splitlines() if line.startswith("| ") and "Fase" not in line]
    assert sum(int(line.split("|")[2]) for line in table) == 21


def test_html_report(report: ProgressReport, app: App) -> None:
    page = render(report, app.definition, "html")
    assert "@media print" in page
    assert "<svg" in page
    assert "<h4>Pensioensector</h4>" in page
    assert "<h4>Toerisme: subconvenant Suriname</h4>" in page
    assert "“Q1 van 2017” (uiterlijk 31-03-2017)" in page
    for _, rows in DOCUMENT:
        for _, heading, *_ in rows:
            assert f">{heading}<" in page


def test_report_as_of_a_day_before_some_covenants_began(app: App) -> None:
    """At the end of 2015 only Goud and the Verzekeringssector had begun."""
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    end_2015 = build_report(
        uow=app.uow(readonly=True), definition=app.definition, as_of=date(2015, 12, 31)
    )
    assert [(e.heading, e.stage_label) for _, entries in end_2015.groups for e in entries] == [
        ("Goud", "Intentieverklaring"),
        ("Financiële sector", ""),
        ("Verzekeringssector", "Verkenning"),
    ]
    assert sum(s.covenants for s in end_2015.stages) == 2
    labels = [el.text for el in ET.fromstring(end_2015.timeline).iter(f"{SVG}text")]
    assert "Goud" in labels and "Bouw" not in labels


def test_report_as_known_on_a_day_before_anything_was_entered(app: App) -> None:
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    known = build_report(
        uow=app.uow(readonly=True),
        definition=app.definition,
        as_of=date(2016, 6, 30),
        known_at=True,
    )
    assert known.groups == []
    assert sum(s.covenants for s in known.stages) == 0
    assert "(zoals bekend op die dag)" in render(known, app.definition, "md")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_html_report_in_a_browser(report: ProgressReport, app: App) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is needed to check the printed report (apt install chromium)")
    html = render(report, app.definition, "html")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_content(html, wait_until="load")
            seen = page.inner_text("body")
            for words in (
                "Voortgang IMVO-convenanten",
                "Risicosectoren",
                "Overige sectoren",
                "Samenvatting",
                "Q1 van 2017",
                "Toerisme: subconvenant Suriname",
            ):
                assert words in seen
            assert page.locator("h2").all_inner_texts() == [
                "Samenvatting",
                "Risicosectoren",
                "Overige sectoren",
            ]
            svg = page.locator("figure svg")
            assert svg.is_visible()
            box = svg.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 100
            sections = page.locator("section.covenant")
            assert sections.count() == sum(len(rows) for _, rows in DOCUMENT)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
            page.emulate_media(media="print")
            assert page.evaluate("matchMedia('print').matches") is True
            for i in range(sections.count()):
                assert sections.nth(i).is_visible()
            assert svg.is_visible()
            printed = svg.bounding_box()
            assert printed is not None and printed["width"] > 100
            assert "Q1 van 2017" in page.inner_text("body")
        finally:
            browser.close()
