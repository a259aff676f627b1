"""What a command loads, seen from a fresh interpreter (the test process has imported
everything already): for tests/unit/test_cli_imports.py and tests/e2e/test_status_imports.py.
"""

from __future__ import annotations

import subprocess
import sys

#: Libraries a status has no use for; `imvo serve`, `scheduler`, `report` load them on use.
HEAVY = ("fastapi", "starlette", "uvicorn", "apscheduler", "icalendar", "jinja2", "docx")
#: Modules (and their submodules) `imvo status --json` on SQLite does without: the ORM (the
#: tables are Core), pydantic-settings (settings.py reads its variables), the as-of reading
#: and the terminal rendering it does not do, and PostgreSQL's dialect (db/schema.py).
UNUSED_BY_A_JSON_STATUS = (
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql",
    "pydantic_settings",
    "imvo_workflow.services.asof",
    "imvo_workflow.cli.render",
)


def modules_after(code: str) -> set[str]:
    """Every module in sys.modules after `code` ran in a fresh interpreter."""
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)), file=sys.stderr)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(done.stderr.split())
