"""`import imvo_workflow.cli` loads no web framework, scheduler or calendar library (issue 14).

A coordinator's `imvo status` should cost little more than SQLAlchemy, Typer and Rich: the
commands are registered in cli/app.py by name and module, and a module is imported when its
command runs. This checks the import in a fresh interpreter (the test process itself has
imported everything already), and that a status there stays clear of them too.

A status also leaves out what it has no use for beyond them: the ORM (the tables are Core
Tables), pydantic-settings (settings.py reads its variables itself) and the as-of reading and
the terminal rendering, which `status --json` does not do (tests/e2e/test_status_imports.py
runs the whole command).
"""

from __future__ import annotations

import subprocess
import sys

#: Libraries a status has no use for; `imvo serve`, `scheduler`, `report` load them on use.
HEAVY = ("fastapi", "starlette", "uvicorn", "apscheduler", "icalendar", "jinja2", "docx")
#: Modules (and their submodules) `imvo status --json` does without.
UNUSED_BY_A_JSON_STATUS = (
    "sqlalchemy.orm",
    "pydantic_settings",
    "imvo_workflow.services.asof",
    "imvo_workflow.cli.render",
)


def _modules(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)), file=sys.stderr)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(done.stderr.split())


def _loaded(code: str) -> set[str]:
    return {name.split(".")[0] for name in _modules(code)}


def test_importing_the_cli_loads_no_web_scheduler_or_calendar_library() -> None:
    loaded = _loaded(
        "import imvo_workflow.cli\n"
        "from imvo_workflow.cli.app import load_command\n"
        "load_command('status')"  # the status command's own module, as `imvo status` loads it
    )
    assert "imvo_workflow" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_the_status_command_loads_no_orm_settings_library_or_rendering() -> None:
    loaded = _modules(
        "import imvo_workflow.cli\n"
        "from imvo_workflow.cli.app import load_command\n"
        "load_command('status')"
    )
    assert "imvo_workflow.services.queries" in loaded
    unused = {m for m in loaded if m.startswith(UNUSED_BY_A_JSON_STATUS)}
    assert not unused, sorted(unused)
