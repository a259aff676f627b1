"""A coordinator keeps a covenant's record in a real browser, then reads it for a past day.

Open a process (a new sector, in dialogue, started on a past date), add two parties, set a
milestone and close it as reached, write a progress note and sign the covenant with its
signatories in one step; then the page for an earlier peildatum shows the parties of that
day, and axe-core finds no WCAG 2.1 AA fault on any of these pages. Debian chromium, `imvo
serve` on a seeded SQLite file with the clock on 2016-11-01; screenshots go to the test's
directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_browser import Seeded, Served, _imvo, _password, assert_accessible, logged_in


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, str, Path]]:
    workdir = tmp_path_factory.mktemp("browser-record")
    seed = workdir / "seed" / "imvo.db"
    seed.parent.mkdir()
    _imvo(seed, "db", "upgrade")
    _imvo(seed, "seed")
    password = _password(_imvo(seed, "users", "add", "coco", "--role", "coordinator"))
    server = Served.start(Seeded(seed, {"coco": password}), workdir)
    server.wait_until_healthy()
    yield server, password, workdir
    server.stop()


@pytest.fixture
def page(served: tuple[Served, str, Path]) -> Iterator[Page]:
    server, password, _ = served
    with logged_in(server.base_url, "coco", password) as found:
        yield found


def _submit(page: Page, button: str, path: str) -> None:
    with page.expect_response(lambda r: r.request.method == "POST" and path in r.url):
        page.get_by_role("button", name=button).click()


def test_open_a_process_keep_its_record_and_read_it_back(
    page: Page, served: tuple[Served, str, Path]
) -> None:
    shots = served[2]
    page.goto("/")
    page.get_by_role("link", name="Nieuw proces").click()
    assert_accessible(page)
    page.get_by_label("Titel", exact=True).fill("IMVO-convenant Metalektro")
    page.get_by_label("Of een nieuwe sector").fill("Metaal en elektrotechniek")
    page.get_by_label("Groep van de nieuwe sector").select_option("risicosector")
    page.get_by_label("Startfase", exact=True).select_option("dialoog")
    page.get_by_label("Startdatum").fill("2016-09-01")
    page.get_by_role("button", name="Proces openen").click()
    expect(page.get_by_test_id("stage")).to_have_text("Dialoog")
    slug = page.url.rsplit("/", 1)[-1]

    for organisation, role, since in (
        ("FME-CWM", "trekker", "2016-09-01"),
        ("FNV", "partij", "2016-10-01"),
    ):
        page.get_by_label("Organisatie", exact=True).select_option(organisation)
        page.get_by_label("Rol", exact=True).select_option(role)
        page.get_by_label("Vanaf").fill(since)
        _submit(page, "Partij toevoegen", "/partijen")
        expect(page.get_by_test_id("parties")).to_contain_text(organisation)

    page.get_by_label("Of een mijlpaal").fill("Eerste stakeholderbijeenkomst")
    page.get_by_label("Termijn, in gewone woorden").fill("oktober 2016")
    expect(page.locator("#target-preview")).to_contain_text("31-10-2016")  # shown as you type
    page.get_by_label("Peildatum: de dag waarop het doel werd uitgesproken").fill("2016-09-01")
    _submit(page, "Doel vastleggen", "/doelen")
    expect(page.locator("#targets")).to_contain_text("Eerste stakeholderbijeenkomst")
    page.get_by_label("Datum van Eerste stakeholderbijeenkomst").fill("2016-10-20")
    _submit(page, "Mijlpaal sluiten", "/sluiten")
    expect(page.locator("#targets")).to_contain_text("11 dagen eerder")

    page.get_by_label("Nieuwe voortgangsnotitie").fill("De partijen tekenen eind oktober.")
    page.get_by_label("Datum van de notitie").fill("2016-10-25")
    _submit(page, "Notitie vastleggen", "/notities")
    expect(page.locator("#covenant")).to_contain_text("De partijen tekenen eind oktober.")
    assert_accessible(page)

    form = page.locator('form[action$="/stap"]')
    form.get_by_label("Naar fase").select_option("ondertekenen")
    expect(form.get_by_label("FME-CWM")).to_be_visible()  # the signing part, fetched by htmx
    form.get_by_label("FME-CWM").check()
    form.get_by_label("FNV").check()
    form.get_by_label("Reden", exact=True).fill("Convenant getekend")
    form.get_by_label("Datum waarop het gebeurde").fill("2016-10-31")
    _submit(page, "Stap vastleggen", "/stap")
    expect(page.get_by_test_id("stage")).to_have_text("Ondertekend")
    expect(page.locator("#signatures")).to_contain_text("FME-CWM — 31-10-2016")
    expect(page.locator("#signatures")).to_contain_text("FNV — 31-10-2016")
    expect(page.locator("#history")).to_contain_text("Ondertekend door")
    page.screenshot(path=str(shots / "record-signed.png"), full_page=True)
    assert_accessible(page)

    page.goto(f"/convenanten/{slug}?peildatum=2016-09-15")
    parties = page.get_by_test_id("parties")
    expect(parties).to_contain_text("FME-CWM")
    expect(parties).not_to_contain_text("FNV")  # it joined on 1 October
    expect(page.get_by_test_id("stage-then")).to_have_text("Dialoog")  # signed on 31 October
    expect(page.locator("#on-day")).to_contain_text("Nog niemand.")
    page.screenshot(path=str(shots / "record-peildatum.png"), full_page=True)
    assert_accessible(page)
