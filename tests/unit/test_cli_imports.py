"""`import imvo_workflow.cli` loads no web framework, scheduler or calendar library (issue 14).

A coordinator's `imvo status` should cost little more than SQLAlchemy, Typer and Rich: the
commands are registered in cli/app.py by name and module, and a module is imported when its
command runs. This checks the import in a fresh interpreter (the test process itself has
imported everything already), and that a status there stays clear of them too.

A status also leaves out what it has no use for beyond them (tests/import_probe.py names them;
tests/e2e/test_status_imports.py runs the whole command).
"""

from __future__ import annotations

from import_probe import HEAVY, UNUSED_BY_A_JSON_STATUS, modules_after


def _loaded(code: str) -> set[str]:
    return {name.split(".")[0] for name in modules_after(code)}


def test_importing_the_cli_loads_no_web_scheduler_or_calendar_library() -> None:
    loaded = _loaded(
        "import imvo_workflow.cli\n"
        "from imvo_workflow.cli.app import load_command\n"
        "load_command('status')"  # the status command's own module, as `imvo status` loads it
    )
    assert "imvo_workflow" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_the_status_command_loads_no_orm_settings_library_or_rendering() -> None:
    loaded = modules_after(
        "import imvo_workflow.cli\n"
        "from imvo_workflow.cli.app import load_command\n"
        "load_command('status')"
    )
    assert "imvo_workflow.services.queries" in loaded
    unused = {m for m in loaded if m.startswith(UNUSED_BY_A_JSON_STATUS)}
    assert not unused, sorted(unused)
