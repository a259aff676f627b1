"""What the covenant page's story and targets partials need, read in the page's transaction.

pages.py calls `story_context` once for the covenant page; the partials
(covenant/_story.html, covenant/_targets.html) read only these names.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.services import lookup, notes
from imvo_workflow.services.queries import CovenantDetail


def story_context(
    conn: Connection, definition: WorkflowDefinition, detail: CovenantDetail
) -> dict[str, Any]:
    covenant_id = lookup.covenant_id(conn, detail.status.slug)
    written = notes.notes(conn, covenant_id)
    current = detail.status.stage
    ahead = definition.ahead_of(current) - {current}
    return {
        "story_note": written[0] if written else None,
        "story_older": written[1:],
        "summary_changes": notes.summary_history(conn, covenant_id),
        # A target names a stage still to reach; a stage that ends the process is no goal.
        "target_stages": [
            (name, stage.label.nl)
            for name, stage in definition.stages.items()
            if name in ahead and not stage.cancels_targets
        ],
        "open_targets": [tg for tg in detail.targets if tg.status == "open"],
    }
