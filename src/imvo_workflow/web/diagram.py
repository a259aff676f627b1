"""The workflow graph as an SVG, with the current stage highlighted: no JavaScript needed.

Stages stand in one row in the order of stages.yaml; a move to a later stage arcs above the
row, a move back arcs below it, higher the further it goes. For a handful of stages this
reads better than a general graph layout and needs no layout library.
"""

from __future__ import annotations

from html import escape

from imvo_workflow.domain.definition import WorkflowDefinition

BOX_W, BOX_H, GAP = 118, 34, 26
ARC = 16


def state_diagram(definition: WorkflowDefinition, current: str | None = None) -> str:
    names = list(definition.stages)
    index = {name: i for i, name in enumerate(names)}
    edges = sorted({(m.source, m.dest): m.label.nl for m in definition.transitions}.items())
    span = max((abs(index[a] - index[b]) for (a, b), _ in edges), default=1)
    top = 14 + ARC * span
    width = len(names) * (BOX_W + GAP) + GAP
    height = top + BOX_H + ARC * span + 14

    def center(name: str) -> float:
        return GAP + index[name] * (BOX_W + GAP) + BOX_W / 2

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="diagram" '
        'role="img" aria-label="Workflow met de huidige fase" font-family="sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#666"/></marker></defs>',
    ]
    for (source, dest), label in edges:
        forward = index[dest] > index[source]
        sx, tx = center(source) + (8 if forward else -8), center(dest) - (8 if forward else -8)
        y = top if forward else top + BOX_H
        lift = ARC * abs(index[dest] - index[source]) * (-1 if forward else 1)
        active = source == current
        parts.append(
            f'<path d="M{sx:.0f},{y} C{sx:.0f},{y + lift} {tx:.0f},{y + lift} {tx:.0f},{y}" fill="none" '
            f'stroke="{"#222" if active else "#aaa"}" stroke-width="{1.6 if active else 1}" '
            f'marker-end="url(#arrow)"><title>{escape(label)}: {source} → {dest}</title></path>'
        )
    for name, spec in definition.stages.items():
        x = GAP + index[name] * (BOX_W + GAP)
        active = name == current
        parts.append(
            f'<g class="stage{" current" if active else ""}" data-stage="{name}">'
            f'<rect x="{x}" y="{top}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{spec.color}" '
            f'fill-opacity="{1 if active else 0.3}" stroke="{"#111" if active else "#777"}" '
            f'stroke-width="{3 if active else 1}"/>'
            f'<text x="{x + BOX_W / 2}" y="{top + BOX_H / 2 + 4}" text-anchor="middle" '
            f'font-weight="{"bold" if active else "normal"}">{escape(spec.label.nl)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
