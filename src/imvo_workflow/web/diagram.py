"""The workflow graph as an SVG, with the current stage highlighted: no JavaScript needed.

Stages are laid out in columns by their distance from the initial stage; moves are drawn as
curved arrows between boxes. Small graphs like this one read well that way.
"""

from __future__ import annotations

from collections import deque
from html import escape

from imvo_workflow.domain.definition import WorkflowDefinition

BOX_W, BOX_H, GAP_X, GAP_Y = 130, 34, 60, 26


def _columns(definition: WorkflowDefinition) -> dict[str, int]:
    depth = {definition.initial: 0}
    queue = deque([definition.initial])
    while queue:
        stage = queue.popleft()
        for move in definition.allowed(stage):
            if move.dest not in depth:
                depth[move.dest] = depth[stage] + 1
                queue.append(move.dest)
    return depth


def state_diagram(definition: WorkflowDefinition, current: str | None = None) -> str:
    depth = _columns(definition)
    columns: dict[int, list[str]] = {}
    for stage in definition.stages:
        columns.setdefault(depth.get(stage, 0), []).append(stage)
    pos = {
        stage: (20 + col * (BOX_W + GAP_X), 20 + row * (BOX_H + GAP_Y))
        for col, stages in columns.items()
        for row, stage in enumerate(stages)
    }
    width = 40 + len(columns) * (BOX_W + GAP_X)
    height = 40 + max(len(s) for s in columns.values()) * (BOX_H + GAP_Y)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="diagram" '
        'role="img" aria-label="Workflow" font-family="sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    seen: set[tuple[str, str]] = set()
    for move in definition.transitions:
        if (move.source, move.dest) in seen:
            continue
        seen.add((move.source, move.dest))
        (x1, y1), (x2, y2) = pos[move.source], pos[move.dest]
        sx, sy = x1 + BOX_W / 2, y1 + BOX_H / 2
        tx, ty = x2 + BOX_W / 2, y2 + BOX_H / 2
        bend = 25 if (move.dest, move.source) in seen or x2 <= x1 else -12
        mx, my = (sx + tx) / 2 + bend / 2, (sy + ty) / 2 + bend
        parts.append(
            f'<path d="M{sx:.0f},{sy:.0f} Q{mx:.0f},{my:.0f} {tx:.0f},{ty:.0f}" fill="none" '
            f'stroke="#888" stroke-width="1.2" marker-end="url(#arrow)"><title>{escape(move.label.nl)}</title></path>'
        )
    for name, spec in definition.stages.items():
        x, y = pos[name]
        active = name == current
        stroke = "#111" if active else "#666"
        parts.append(
            f'<g class="stage{" current" if active else ""}" data-stage="{name}">'
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{spec.color}" '
            f'fill-opacity="{1 if active else 0.35}" stroke="{stroke}" stroke-width="{3 if active else 1}"/>'
            f'<text x="{x + BOX_W / 2}" y="{y + BOX_H / 2 + 4}" text-anchor="middle" '
            f'font-weight="{"bold" if active else "normal"}">{escape(spec.label.nl)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
