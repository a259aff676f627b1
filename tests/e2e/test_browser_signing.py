"""Signing natuursteen in a real browser: the move form fetches its signing part (htmx) when
Ondertekenen is chosen, the signatories and the open milestone are chosen there, and the page
then lists the signature and the milestone planned against actual. axe-core finds no WCAG 2.1
AA fault on the page with these forms. Debian chromium, `imvo serve` on a seeded SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from test_browser import Seeded, Served, _imvo, _password, assert_accessible, logged_in


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, str]]:
    workdir = tmp_path_factory.mktemp("browser-signing")
    seed = workdir / "seed" / "imvo.db"
    seed.parent.mkdir()
    _imvo(seed, "db", "upgrade")
    _imvo(seed, "seed")
    _imvo(seed, "targets", "set", "natuursteen", "Oogstdag", "1 oktober 2016", "--milestone",
          "--by", "coco", "--reference", "2016-06-01")  # fmt: skip
    password = _password(_imvo(seed, "users", "add", "coco", "--role", "coordinator"))
    server = Served.start(Seeded(seed, {"coco": password}), workdir)
    server.wait_until_healthy()
    yield server, password
    server.stop()


@pytest.fixture
def page(served: tuple[Served, str]) -> Iterator[Page]:
    server, password = served
    with logged_in(server.base_url, "coco", password) as found:
        yield found


def test_signing_with_signatories_and_a_milestone_in_the_browser(page: Page) -> None:
    page.goto("/convenanten/natuursteen")
    form = page.locator('form[action$="/stap"]')
    expect(form.locator("#move-extra input[name=signatory]")).to_have_count(0)
    form.get_by_label("Naar fase").select_option("ondertekenen")
    expect(form.get_by_label("SER")).to_be_visible()  # fetched by htmx
    expect(form.locator("#move-extra")).to_contain_text("vervallen automatisch")
    axe = Axe()
    assert_accessible(page, axe)
    form.get_by_label("SER").check()
    form.get_by_label("Mijlpaal Oogstdag (uiterlijk 01-10-2016)").select_option("bereikt")
    form.get_by_label("Datum bereikt van Oogstdag").fill("2016-09-28")
    form.get_by_label("Reden", exact=True).fill("getekend")
    form.get_by_label("Datum waarop het gebeurde").fill("2016-10-01")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/stap")):
        page.get_by_role("button", name="Stap vastleggen").click()
    expect(page.get_by_test_id("stage")).to_have_text("Ondertekend")
    expect(page.locator("#signatures")).to_contain_text("SER — 01-10-2016")
    expect(page.locator("#targets")).to_contain_text("3 dagen eerder")
    expect(page.locator("#history")).to_contain_text("Ondertekend door: SER")
    assert_accessible(page, axe)
