"""A coordinator reads next year's progress report in a real browser (issue 13, point 7).

The seeded 2016 report plus a year of record-keeping made through the services
(tests/report_year.py); the Rapport page for 2017-11-01 since 2016-11-01 shows the summary,
the change section and a download link per format (the Word file downloads and opens as a
zip), and axe-core finds no WCAG 2.1 AA fault on the form or the report. Debian chromium,
`imvo serve` on the SQLite file; screenshots go to tests/artifacts/ like the other browser
tests'.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_browser import ARTIFACTS, Seeded, Served, _imvo, _password, assert_accessible, logged_in

from imvo_workflow.bootstrap import App
from imvo_workflow.domain.definition import load_definition
from imvo_workflow.settings import DEFAULT_STAGES_FILE, Settings
from report_year import PREVIOUS, build_year, on


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, str]]:
    workdir = tmp_path_factory.mktemp("browser-report")
    seed = workdir / "seed" / "imvo.db"
    seed.parent.mkdir()
    _imvo(seed, "db", "upgrade")
    _imvo(seed, "seed")
    password = _password(_imvo(seed, "users", "add", "coco", "--role", "coordinator"))
    app = App(
        settings=Settings(database_url=f"sqlite:///{seed}", now=on(PREVIOUS)),
        definition=load_definition(DEFAULT_STAGES_FILE),
    )
    try:
        build_year(app)
    finally:
        app.close()
    server = Served.start(Seeded(seed, {"coco": password}), workdir)
    server.wait_until_healthy()
    yield server, password
    server.stop()


@pytest.fixture
def page(served: tuple[Served, str]) -> Iterator[Page]:
    server, password = served
    with logged_in(server.base_url, "coco", password, accept_downloads=True) as found:
        yield found


def test_the_report_for_2017_since_2016_shows_what_changed_and_downloads(
    page: Page, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.get_by_role("link", name="Rapport").click()
    assert_accessible(page)
    page.get_by_label("Peildatum").fill("2017-11-01")
    page.get_by_label("Wat is er veranderd sinds").fill("2016-11-01")
    page.get_by_role("button", name="Toon rapport").click()
    expect(page).to_have_url(re.compile(r"/rapport/bekijk\?datum=2017-11-01&sinds=2016-11-01"))

    expect(page.locator("main h2").first).to_have_text("Samenvatting")
    changes = page.locator("section.changes")
    expect(
        changes.get_by_role("heading", name="Wat is er veranderd sinds 01-11-2016")
    ).to_be_visible()
    expect(changes.locator("h3")).to_have_text(
        ["Natuursteen", "Chemie", "Goud", "Houtsector", "Land- en tuinbouw", "Voedingsmiddelen"]
    )
    expect(changes).to_contain_text("Fase: Dialoog → Ondertekend")
    expect(changes).to_contain_text("111 dagen te laat")
    expect(changes).to_contain_text("Doel verschoven")
    expect(page.locator("section.summary")).to_contain_text("Ondertekend in de periode: 2")
    expect(page.locator("figure svg path title").first).to_contain_text("doel")
    for label in ("Markdown (.md)", "HTML (.html)", "Word (.docx)"):
        expect(page.get_by_role("link", name=label)).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(ARTIFACTS / "report-2017-since-2016.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Word (.docx)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "voortgang-imvo-2017-11-01.docx"
    with zipfile.ZipFile(saved) as archive:
        assert "word/document.xml" in archive.namelist()

    page.emulate_media(media="print")
    expect(page.locator(".downloads")).to_be_hidden()
    expect(changes).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "report-2017-since-2016-print.png"), full_page=True)
