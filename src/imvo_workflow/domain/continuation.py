"""A covenant process that continues in another covenant ("opgegaan in ..."), never abandoned.

The move is the ordinary transition `opgaan_in` to the terminal stage `opgegaan` (stages.yaml);
what this module adds are the names both sides use and the pure check that the covenant it
continues in is a sensible one: another covenant, not one that (directly or through others)
already continued in this one.

Pure: no database or web imports.
"""

from __future__ import annotations

from collections.abc import Mapping

from imvo_workflow.domain.errors import InvalidInput

#: The stage and the trigger of stages.yaml that mean "continued in another covenant".
CONTINUED_STAGE = "opgegaan"
CONTINUE_TRIGGER = "opgaan_in"


def continued_label(title: str) -> str:
    """How a covenant that continued elsewhere is named where its stage is shown."""
    return f"Opgegaan in {title}"


def check_target(source: int, target: int, continued_in: Mapping[int, int | None]) -> None:
    """Refuse continuing `source` in itself, or in a covenant whose own continuation leads back
    to `source` (a cycle). `continued_in` maps a covenant id to the id it continued in."""
    if source == target:
        raise InvalidInput("Een convenant kan niet opgaan in zichzelf; kies een ander convenant.")
    seen = {target}
    step = continued_in.get(target)
    while step is not None and step not in seen:
        if step == source:
            raise InvalidInput(
                "Dat convenant is zelf (via een ander) opgegaan in dit convenant; opgaan in "
                "elkaar zou een kring maken."
            )
        seen.add(step)
        step = continued_in.get(step)
