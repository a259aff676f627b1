"""`imvo status --json`, run whole on a migrated database, loads only what it uses (issue 14).

tests/unit/test_cli_imports.py checks what importing the command loads; this runs it, so the
imports a status makes inside its function (the as-of reading, the rendering) are held too.
"""

from __future__ import annotations

from pathlib import Path

from import_probe import HEAVY, UNUSED_BY_A_JSON_STATUS, modules_after
from imvo_workflow.db import migrate


def test_a_json_status_loads_no_orm_settings_library_or_rendering(tmp_path: Path) -> None:
    """The whole command, in a fresh interpreter as `imvo` runs it."""
    url = f"sqlite:///{tmp_path / 'imvo.db'}"
    migrate.upgrade(url)
    loaded = modules_after(
        "import os\n"
        f"os.environ['IMVO_DATABASE_URL'] = {url!r}\n"
        "from imvo_workflow.cli import main\n"
        "try:\n"
        "    main(['status', '--json'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
    )
    assert "imvo_workflow.services.queries" in loaded  # the probe did run the status
    unused = {m for m in loaded if m.startswith(UNUSED_BY_A_JSON_STATUS)}
    assert not unused, sorted(unused)
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY)
