"""The web app in a real browser: what a coordinator and a viewer see and can do.

One `imvo serve` per database for the module, started as a subprocess exactly as an operator
would (migrated with `imvo db upgrade`, loaded with `imvo seed`, accounts made with `imvo
users add`, the clock pinned to the report date 2016-11-01). Tests that move covenants move
different ones, and the report test gets a server of its own on a pristine copy, so the tests
do not depend on their order. Each test works in a fresh browser context (its own cookies);
Debian's chromium drives the pages. Screenshots land in tests/artifacts/ for a human to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Response,
    StorageState,
    expect,
    sync_playwright,
)

from cli_runner import run_imvo
from helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
STAGES = ROOT / "src" / "imvo_workflow" / "data" / "stages.yaml"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
NO_CHROMIUM = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`."
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
IMVO = (sys.executable, "-m", "imvo_workflow")
SECRET = "browser-test-secret-not-for-production"
STAGE_LABELS = [
    "Verkenning",
    "Kwartiermaker",
    "Dialoog",
    "Intentieverklaring",
    "Ondertekend",
    "Afgezien",
    "Opgegaan in ander convenant",
]
#: Every sector the 2016 progress report names, in its two groups.
REPORT_SECTORS = {
    "Bouw",
    "Natuursteen",
    "Chemie",
    "Detailhandel",
    "Goud",
    "Energie",
    "Financiële sector",
    "Pensioensector",
    "Verzekeringssector",
    "Groothandel",
    "Houtsector",
    "Land- en tuinbouw",
    "Sierteeltsector",
    "Duurzame eiwitten",
    "Plantaardige uitgangsmaterialen",
    "Metaal/elektronica",
    "Metallurgische industrie",
    "Technologische industrie",
    "Olie en Gas",
    "Voedingsmiddelen",
    "Scheepvaart",
    "Toerisme",
}


# --- the server ------------------------------------------------------------------------------


def _env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMVO_") and k != "FORCE_COLOR"}
    return env | {
        "IMVO_DATABASE_URL": f"sqlite:///{database}",
        "IMVO_STAGES_FILE": str(STAGES),
        "IMVO_NOW": "2016-11-01",
        "IMVO_SECRET_KEY": SECRET,
        "COLUMNS": "300",
        "PYTHONIOENCODING": "utf-8",
    }


def _imvo(database: Path, *args: str, now: str | None = None) -> str:
    env = _env(database) | ({"IMVO_NOW": now} if now else {})
    done = run_imvo(args, env, cwd=database.parent)
    assert done.returncode == 0, f"imvo {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _password(output: str) -> str:
    """The password `imvo users add` prints once (rich may wrap: read it as one line)."""
    found = re.search(r"wachtwoord:\s*(\S+)\s+\(wordt", " ".join(output.split()))
    assert found, f"no password in: {output!r}"
    return found.group(1)


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass(frozen=True)
class Seeded:
    database: Path
    passwords: dict[str, str]


@dataclass
class Served:
    """One `imvo serve` subprocess on a copy of the seeded database."""

    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, seeded: Seeded, workdir: Path) -> Served:
        database = workdir / "imvo.db"
        shutil.copy(seeded.database, database)
        port = free_port()
        log = workdir / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*IMVO, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler"],
                cwd=workdir,
                env=_env(database),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return cls(f"http://127.0.0.1:{port}", process, log)

    def wait_until_healthy(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not _healthy(self.base_url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"imvo serve did not come up:\n{self.log.read_text('utf-8')}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    database = tmp_path_factory.mktemp("browser-seed") / "imvo.db"
    _imvo(database, "db", "upgrade")
    _imvo(database, "seed")
    # One scan at noon of the report date (due alerts fire in the day, after the pinned
    # midnight), so the inbox has alerts and buttons to show; one handled, for ?alle=1.
    _imvo(database, "scheduler", "tick", now="2016-11-01T12:00")
    _imvo(database, "alerts", "ack", "1", "--by", "coco")
    accounts = {"adam": "admin", "coco": "coordinator", "vera": "viewer"}
    passwords = {
        name: _password(_imvo(database, "users", "add", name, "--role", role))
        for name, role in accounts.items()
    }
    return Seeded(database, passwords)


@dataclass(frozen=True)
class Servers:
    #: The board tests use this one, and move covenants on it.
    main: str
    #: An untouched copy: the report must show the seeded stand, whatever ran before.
    report: str


@pytest.fixture(scope="module")
def servers(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Both servers, started side by side so the module pays for one start-up."""
    started: list[Served] = []
    try:
        for name in ("browser-main", "browser-report"):
            started.append(Served.start(seeded, tmp_path_factory.mktemp(name)))
        for served in started:
            served.wait_until_healthy()
        yield Servers(started[0].base_url, started[1].base_url)
    finally:
        for served in started:
            served.stop()


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(NO_CHROMIUM)
    # Generous waits: these tests share the machine with benchmarks and other suites.
    expect.set_options(timeout=10_000)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


Login = Callable[..., Page]


@pytest.fixture(scope="module")
def sessions() -> dict[str, StorageState]:
    """Each user's cookies after their first login through the form, for later tests to reuse."""
    return {}


@pytest.fixture
def login(
    browser: Browser, servers: Servers, seeded: Seeded, sessions: dict[str, StorageState]
) -> Iterator[Login]:
    """`login("coco")`: a fresh browser context (a Dutch one) at the board, logged in.

    A user's first login goes through the login page; later tests start from the session it
    left, which spares an argon2 check each. Cookies are per host, not per port, so the
    session serves both servers. `fresh=True` logs in on its own session, for a test that
    logs out; logging out ends every session of that user, so a test that then finds itself
    at the login page logs in through the form again.
    """
    contexts: list[BrowserContext] = []

    def open_as(
        name: str, base_url: str = servers.main, javascript: bool = True, fresh: bool = False
    ) -> Page:
        context = browser.new_context(
            base_url=base_url,
            viewport={"width": 1400, "height": 900},
            locale="nl-NL",
            timezone_id="Europe/Amsterdam",
            java_script_enabled=javascript,
            storage_state=None if fresh else sessions.get(name),
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/")
        if fresh or name not in sessions or re.search(r"/login\?next=/$", page.url):
            expect(page).to_have_url(re.compile(r"/login\?next=/$"))
            page.get_by_label("Gebruikersnaam").fill(name)
            page.get_by_label("Wachtwoord").fill(seeded.passwords[name])
            page.get_by_role("button", name="Inloggen").click()
            if not fresh:
                sessions[name] = context.storage_state()
        expect(page).to_have_url(f"{base_url}/")
        expect(page.locator("header.top .who")).to_contain_text(name)
        return page

    yield open_as
    for context in contexts:
        context.close()


def _column(page: Page, label: str) -> Locator:
    return page.get_by_role("region", name=label)


def _slugs(page: Page) -> set[str]:
    return {card.get_attribute("data-covenant") or "" for card in page.locator("a.card").all()}


def _submit_move(page: Page) -> Response:
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/stap")
    ) as answer:
        page.get_by_role("button", name="Stap vastleggen").click()
    return answer.value


def test_debian_chromium_is_installed() -> None:
    """A missing browser is a failure to fix, never a skip (the others error with this too)."""
    assert CHROMIUM.exists(), NO_CHROMIUM


# --- 1. moving a covenant ----------------------------------------------------------------------


def test_coordinator_moves_natuursteen_from_dialoog_to_ondertekend(
    login: Login, artifacts: Path
) -> None:
    page = login("coco")
    columns = page.locator("#board section.column")
    expect(columns).to_have_count(len(STAGE_LABELS))
    assert [c.locator("h2 span").first.inner_text() for c in columns.all()] == STAGE_LABELS
    expect(_column(page, "Dialoog").locator("a.card", has_text="Natuursteen")).to_have_count(1)
    page.screenshot(path=artifacts / "board.png", full_page=True)

    _column(page, "Dialoog").locator("a.card", has_text="Natuursteen").click()
    expect(page).to_have_url(re.compile(r"/convenanten/natuursteen$"))
    expect(page.get_by_test_id("stage")).to_have_text("Dialoog")
    expect(page.locator("svg.diagram g.stage.current")).to_have_count(1)
    expect(page.locator("svg.diagram g.stage.current[data-stage=dialoog]")).to_be_visible()
    form = page.locator('form[action$="/stap"]')
    offered = {o.get_attribute("value") for o in form.locator("select#to option").all()}
    assert offered == {"intentieverklaring_tekenen", "ondertekenen", "afzien"}
    expect(form.get_by_label("Reden")).to_be_visible()
    expect(form.get_by_label("Datum waarop het gebeurde")).to_have_attribute("type", "date")

    form.get_by_label("Naar fase").select_option("ondertekenen")
    form.get_by_label("Reden").fill("getekend op 14 februari")
    assert _submit_move(page).status == 200
    expect(page.get_by_test_id("stage")).to_have_text("Ondertekend")
    expect(page.locator(".message.ok")).to_contain_text("Vastgelegd")
    expect(page.locator("svg.diagram g.stage.current[data-stage=ondertekend]")).to_be_visible()
    newest = page.locator("#history li").first
    expect(newest).to_contain_text("getekend op 14 februari")
    expect(newest).to_contain_text("coco")
    # IMVO_NOW is midnight in Amsterdam; the page speaks Dutch time, not UTC (23:00 the day before).
    expect(newest.locator(".when")).to_contain_text("vastgelegd 01-11-2016 00:00")
    page.screenshot(path=artifacts / "covenant.png", full_page=True)

    page.get_by_role("link", name="Bord", exact=True).click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(_column(page, "Ondertekend").locator("a.card", has_text="Natuursteen")).to_have_count(1)
    expect(_column(page, "Dialoog").locator("a.card", has_text="Natuursteen")).to_have_count(0)
    page.screenshot(path=artifacts / "board-after.png", full_page=True)


# --- 2. the board's filters ------------------------------------------------------------------


def test_board_filters_by_sector_group_and_overdue_in_place(login: Login) -> None:
    page = login("coco")
    page.evaluate("window.stillTheSamePage = true")
    groups = page.get_by_label("Sectorgroep")

    groups.select_option("overige")
    expect(page).to_have_url(re.compile(r"[?&]groep=overige"))
    expect(page.locator("a.card[data-covenant=chemie]")).to_have_count(0)
    # a sub-covenant's card carries its own title
    cards = set(page.locator("a.card .sector").all_inner_texts())
    assert cards == {"Scheepvaart", "Toerisme", "Subconvenant Toerisme Suriname"}
    assert _slugs(page) == {"scheepvaart", "toerisme", "toerisme-suriname"}

    groups.select_option("")
    expect(page).to_have_url(re.compile(r"[?&]groep=(&|$)"))
    page.get_by_label("Alleen te laat").check()
    expect(page).to_have_url(re.compile(r"[?&]te_laat=1"))
    expect(page.locator("a.card[data-covenant=scheepvaart]")).to_have_count(0)
    assert _slugs(page) == {"metallurgische-industrie", "technologische-industrie"}
    expect(page.locator("a.card .badge")).to_have_count(2)
    assert page.evaluate("window.stillTheSamePage") is True, "the filter reloaded the page"


def test_the_pages_work_under_the_content_security_policy(login: Login) -> None:
    """Issue 11: no inline script, nothing from elsewhere; the browser refuses nothing."""
    page = login("coco")
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    for path in ("/", "/convenanten/chemie", "/meldingen", "/account", "/audit"):
        answer = page.goto(path)
        assert answer is not None and answer.ok, path
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    page.goto("/")
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Sectorgroep").select_option("overige")  # htmx still swaps in place
    expect(page).to_have_url(re.compile(r"[?&]groep=overige"))
    assert page.evaluate("window.stillTheSamePage") is True
    assert not [m for m in refused if "Content Security Policy" in m], refused


# --- 3. a viewer ----------------------------------------------------------------------------


def test_viewer_sees_no_move_form_and_her_post_is_refused(login: Login) -> None:
    page = login("vera")
    page.goto("/convenanten/goud")
    expect(page.get_by_test_id("stage")).to_have_text("Dialoog")
    expect(page.locator('form[action$="/stap"]')).to_have_count(0)
    expect(page.locator("main")).to_contain_text("stappen zetten kan een coördinator")

    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    answer = page.request.post(
        "/convenanten/goud/stap",
        form={"csrf_token": token, "to": "ondertekenen", "version": "1", "reason": "getekend"},
        max_redirects=0,
    )
    assert answer.status == 403, answer.text()
    assert "coordinator" in answer.text()
    page.reload()
    expect(page.get_by_test_id("stage")).to_have_text("Dialoog")


# --- 4. refusals on the page -----------------------------------------------------------------


def test_forbidden_and_stale_moves_are_explained_on_the_page(login: Login) -> None:
    first = login("coco")
    first.goto("/convenanten/chemie")
    second = first.context.new_page()
    second.goto("/convenanten/chemie")
    expect(second.get_by_test_id("stage")).to_have_text("Verkenning")

    # A move the graph does not allow from verkenning, smuggled into the form. (A tab in the
    # background is throttled by chromium: bring the one we act in to the front.)
    first.bring_to_front()
    first.evaluate(
        """() => {
            const option = document.createElement("option");
            option.value = "ondertekenen";
            option.textContent = "Convenant ondertekenen";
            document.querySelector("select#to").append(option);
        }"""
    )
    first.get_by_label("Naar fase").select_option("ondertekenen")
    first.get_by_label("Reden").fill("te vroeg")
    assert _submit_move(first).status == 422
    refusal = first.locator(".message.error")
    expect(refusal).to_contain_text("niet toegestaan")
    expect(refusal).to_contain_text("kwartiermaker_starten")
    expect(refusal).to_contain_text("dialoog_starten")
    expect(first.get_by_test_id("stage")).to_have_text("Verkenning")

    first.get_by_label("Naar fase").select_option("kwartiermaker_starten")
    assert _submit_move(first).status == 200
    expect(first.get_by_test_id("stage")).to_have_text("Kwartiermaker")

    # The second tab still holds the version from before that move.
    second.bring_to_front()
    second.get_by_label("Naar fase").select_option("dialoog_starten")
    assert _submit_move(second).status == 409
    conflict = second.locator(".message.error")
    expect(conflict).to_contain_text(re.compile("intussen gewijzigd|iemand anders"))
    expect(second.get_by_test_id("stage")).to_have_text("Kwartiermaker")
    second.reload()
    expect(second.get_by_test_id("stage")).to_have_text("Kwartiermaker")


# --- 5. logging out ------------------------------------------------------------------------


def test_logging_out_returns_to_login_and_closes_the_board(login: Login) -> None:
    page = login("coco", fresh=True)
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    expect(page.get_by_role("button", name="Inloggen")).to_be_visible()


# --- regressions: what a coordinator should not see -----------------------------------------


def test_a_refused_move_without_javascript_shows_its_message_once(login: Login) -> None:
    """The form works without htmx, as promised; base.html and covenant.html both printed it."""
    page = login("coco", javascript=False)
    page.goto("/convenanten/houtsector")
    page.get_by_label("Naar fase").select_option("afzien")
    page.get_by_role("button", name="Stap vastleggen").click()
    expect(page.locator(".message.error").first).to_contain_text("reden")
    expect(page.get_by_test_id("stage")).to_have_text("Dialoog")
    shown = page.locator(".message.error").all_inner_texts()
    assert len(shown) == 1, f"the message is shown {len(shown)} times: {shown}"


def test_a_missing_reason_is_explained_in_the_words_of_the_form(login: Login) -> None:
    """The page has a field "Reden", not a `--reason` option: the CLI's wording leaked."""
    page = login("coco")
    page.goto("/convenanten/energie")
    page.get_by_label("Naar fase").select_option("afzien")
    assert _submit_move(page).status == 422
    refusal = page.locator(".message.error")
    expect(refusal).to_contain_text("reden")
    expect(page.get_by_test_id("stage")).to_have_text("Verkenning")
    assert "--" not in refusal.inner_text(), refusal.inner_text()


def test_subconvenant_card_says_which_subconvenant_it_is(login: Login) -> None:
    """Both Toerisme cards read "Toerisme": the sub-covenant's said "(onder toerisme)", a slug."""
    page = login("coco")
    heading = page.locator("a.card[data-covenant=toerisme-suriname] .sector").inner_text()
    assert "Suriname" in heading, heading
    assert "onder toerisme" not in heading, heading


# --- 6. the report ---------------------------------------------------------------------------


def test_report_of_1_november_2016_lists_every_sector_and_prints(
    login: Login, servers: Servers, artifacts: Path
) -> None:
    page = login("coco", base_url=servers.report)
    page.get_by_role("link", name="Rapport").click()
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    page.emulate_media(media="screen")
    page.get_by_label("Peildatum").fill("2016-11-01")
    page.get_by_role("button", name="Toon rapport").click()
    expect(page).to_have_url(re.compile(r"/rapport/bekijk\?datum=2016-11-01"))

    groups = page.locator("main h2").all_inner_texts()
    assert groups.index("Risicosectoren") < groups.index("Overige sectoren")
    headings = set(page.locator("section.covenant :is(h3, h4, h5)").all_inner_texts())
    missing = REPORT_SECTORS - headings
    assert not missing, missing
    natuursteen = page.locator("section#natuursteen")
    expect(natuursteen.locator(".stage")).to_have_text("Dialoog")
    expect(natuursteen).to_contain_text("Q1 van 2017")
    expect(natuursteen).to_contain_text("31-03-2017")

    timeline = page.locator("figure svg")
    expect(timeline).to_be_visible()
    labels = set(timeline.locator("text").all_text_contents())
    # One lane per covenant: the two parent-only sectors have none of their own.
    lanes = REPORT_SECTORS - {"Financiële sector", "Metaal/elektronica"}
    missing = ({"2016"} | lanes) - labels
    assert not missing, missing
    page.screenshot(path=artifacts / "report.png", full_page=True)

    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_have_count(0)
    expect(page.locator("nav")).to_have_count(0)
    expect(page.get_by_role("heading", name="Risicosectoren")).to_be_visible()
    expect(page.get_by_role("heading", name="Overige sectoren")).to_be_visible()
    expect(natuursteen).to_be_visible()


# --- 7. accessibility ------------------------------------------------------------------------

#: WCAG 2.1 level A and AA, which Dutch government software must meet (issue 12 point 11).
WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def assert_accessible(page: Page, axe: Axe | None = None) -> None:
    """axe-core finds no WCAG 2.1 AA fault on the page as it stands."""
    results = (axe or Axe()).run(page, options=WCAG_21_AA)
    assert not results.violations_count, results.generate_report()


@contextmanager
def logged_in(base_url: str, name: str, password: str, **options: object) -> Iterator[Page]:
    """A page in Debian's chromium, logged in through the form as `name`, on the board;
    `options` go to the browser context (accept_downloads=True, ...)."""
    if not CHROMIUM.exists():
        pytest.fail(NO_CHROMIUM)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base_url, locale="nl-NL", **options)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Gebruikersnaam").fill(name)
        page.get_by_label("Wachtwoord").fill(password)
        page.get_by_role("button", name="Inloggen").click()
        expect(page).to_have_url(f"{base_url}/")
        try:
            yield page
        finally:
            browser.close()


def test_every_page_passes_axe_for_every_role_that_sees_it(
    browser: Browser, login: Login, servers: Servers
) -> None:
    """axe-core (shipped inside axe-playwright-python, so offline) finds no WCAG 2.1 AA fault.

    Every page, as each role that sees something different on it, on the untouched server
    (Natuursteen is still in Dialoog there, so the coordinator's page has its move form).
    """
    axe = Axe()
    found: dict[str, str] = {}

    def check(page: Page, what: str, path: str | None = None, status: int = 200) -> None:
        if path is not None:
            answer = page.goto(path)
            assert answer is not None and answer.status == status, (what, path)
        page.wait_for_load_state("load")
        results = axe.run(page, options=WCAG_21_AA)
        if results.violations_count:
            found[what] = results.generate_report()

    anonymous = browser.new_context(base_url=servers.report, locale="nl-NL")
    try:
        page = anonymous.new_page()
        check(page, "login page", "/login")
        page.get_by_label("Gebruikersnaam").fill("niemand")
        page.get_by_label("Wachtwoord").fill("fout")
        page.get_by_role("button", name="Inloggen").click()
        expect(page.locator(".message.error")).to_be_visible()
        check(page, "login page with its refusal")
        check(page, "404 page, logged out", "/bestaat-niet", status=404)
    finally:
        anonymous.close()

    for name in ("vera", "coco", "adam"):
        page = login(name, base_url=servers.report)
        check(page, f"board as {name}")
        check(page, f"covenant page as {name}", "/convenanten/natuursteen")
        check(page, f"inbox as {name}", "/meldingen")
        expect(page.locator("#alerts tr[data-alert]").first).to_be_visible()  # the tick's alerts
        check(page, f"inbox with handled alerts as {name}", "/meldingen?alle=1")
        expect(page.locator("#alerts")).to_contain_text("afgehandeld door coco")
        check(page, f"audit page as {name}", "/audit")
        check(page, f"report form as {name}", "/rapport")
        check(page, f"report as {name}", "/rapport/bekijk?datum=2016-11-01")
        check(page, f"account page as {name}", "/account")
        check(page, f"organisations as {name}", "/organisaties")
        check(
            page,
            f"parties on a day as {name}",
            "/convenanten/voedingsmiddelen?peildatum=2016-10-01",
        )
        check(page, f"404 page as {name}", "/bestaat-niet", status=404)
        check(page, f"unknown covenant as {name}", "/convenanten/bestaat-niet", status=404)

    coco = login("coco", base_url=servers.report)
    coco.goto("/convenanten/natuursteen")
    expect(coco.locator('form[action$="/stap"]')).to_be_visible()
    coco.get_by_label("Naar fase").select_option("afzien")
    assert _submit_move(coco).status == 422  # no reason: refused, nothing moves
    expect(coco.locator(".message.error")).to_be_visible()
    check(coco, "covenant page with a refused move")
    check(coco, "new process form", "/processen/nieuw")

    adam = login("adam", base_url=servers.report)
    check(adam, "users page as adam", "/gebruikers")

    assert not found, "\n\n".join(f"== {what} ==\n{report}" for what, report in found.items())


# --- 8. continuation (last: it changes a covenant on the shared server) ------------------


def test_coordinator_records_that_energie_continued_in_another_covenant(login: Login) -> None:
    page = login("coco")
    page.goto("/convenanten/energie")
    form = page.locator('form[action$="/opgaan"]')
    form.get_by_label("Convenant waarin het proces opgaat").select_option("olie-en-gas")
    form.get_by_label("Datum waarop het opging").fill("2016-11-01")
    form.get_by_label("Waarom het hierin opgaat").fill(
        "De gesprekken gaan verder in het bredere convenant."
    )
    with page.expect_response(lambda r: r.url.endswith("/opgaan")) as answer:
        form.get_by_role("button", name="Opgaan vastleggen").click()
    assert answer.value.status == 200
    expect(page.get_by_test_id("stage")).to_have_text("Opgegaan in IMVO-convenant Olie en Gas")
    page.get_by_test_id("continued-in").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/convenanten/olie-en-gas$"))
    expect(page.get_by_test_id("joined")).to_contain_text("IMVO-convenant Energie")
    page.get_by_role("link", name="Bord", exact=True).click()
    card = _column(page, "Opgegaan in ander convenant").locator("a.card", has_text="Energie")
    expect(card).to_contain_text("Opgegaan in IMVO-convenant Olie en Gas")
