"""A timeline picture (SVG) of every covenant's stages over time, readable on paper.

One lane per covenant, labelled with its sector; each stage a bar in the stage's colour from
stages.yaml; years and half-years on the axis; a legend. Plain SVG text, no dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

LABEL_WIDTH = 250
PLOT_WIDTH = 650
LANE = 20
TOP = 30


@dataclass(frozen=True, slots=True)
class Lane:
    label: str
    #: (stage, since) in order; each lasts until the next one or the report date.
    steps: list[tuple[str, date]]


def timeline_svg(
    lanes: list[Lane], as_of: date, colors: dict[str, str], labels: dict[str, str]
) -> str:
    starts = [since for lane in lanes for _, since in lane.steps]
    first = date(min(starts).year, 1, 1) if starts else date(as_of.year, 1, 1)
    span = max((as_of - first).days, 1)

    def x(day: date) -> float:
        return LABEL_WIDTH + PLOT_WIDTH * (day - first).days / span

    height = TOP + LANE * len(lanes) + 60
    width = LABEL_WIDTH + PLOT_WIDTH + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="Tijdlijn van de fasen per sector" '
        'font-family="sans-serif" font-size="11">',
        f"<title>Fasen per sector tot {as_of:%d-%m-%Y}</title>",
    ]
    for year in range(first.year, as_of.year + 1):
        for month, label in ((1, str(year)), (7, "jul")):
            tick = date(year, month, 1)
            if first <= tick <= as_of:
                parts.append(
                    f'<line x1="{x(tick):.1f}" y1="{TOP - 6}" x2="{x(tick):.1f}" '
                    f'y2="{TOP + LANE * len(lanes)}" stroke="#bbb" stroke-width="{1 if month == 1 else 0.5}"/>'
                )
                parts.append(
                    f'<text x="{x(tick) + 2:.1f}" y="{TOP - 10}" fill="#333">{label}</text>'
                )
    for row, lane in enumerate(lanes):
        y = TOP + row * LANE
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end">{escape(lane.label)}</text>'
        )
        ends = [since for _, since in lane.steps[1:]] + [as_of]
        for (stage, since), until in zip(lane.steps, ends, strict=False):
            left, right = x(max(since, first)), x(until)
            parts.append(
                f'<rect x="{left:.1f}" y="{y + 3}" width="{max(right - left, 1.5):.1f}" height="{LANE - 6}" '
                f'fill="{colors.get(stage, "#ccc")}"><title>{escape(lane.label)}: '
                f"{escape(labels.get(stage, stage))} vanaf {since:%d-%m-%Y}</title></rect>"
            )
    legend_y = TOP + LANE * len(lanes) + 25
    for i, (stage, label) in enumerate(labels.items()):
        lx = LABEL_WIDTH + i * 110
        parts.append(
            f'<rect x="{lx}" y="{legend_y - 10}" width="12" height="12" fill="{colors.get(stage, "#ccc")}"/>'
        )
        parts.append(f'<text x="{lx + 16}" y="{legend_y}">{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
