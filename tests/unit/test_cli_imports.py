"""`import imvo_workflow.cli` loads no web framework, scheduler or calendar library (issue 14).

A coordinator's `imvo status` should cost little more than SQLAlchemy, Typer and Rich: the
commands are registered in cli/app.py by name and module, and a module is imported when its
command runs. This checks the import in a fresh interpreter (the test process itself has
imported everything already), and that a status there stays clear of them too.
"""

from __future__ import annotations

import subprocess
import sys

#: Libraries a status has no use for; `imvo serve`, `scheduler`, `report` load them on use.
HEAVY = ("fastapi", "starlette", "uvicorn", "apscheduler", "icalendar", "jinja2", "docx")


def _loaded(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(done.stdout.split())


def test_importing_the_cli_loads_no_web_scheduler_or_calendar_library() -> None:
    loaded = _loaded(
        "import imvo_workflow.cli\n"
        "from imvo_workflow.cli.app import load_command\n"
        "load_command('status')"  # the status command's own module, as `imvo status` loads it
    )
    assert "imvo_workflow" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
