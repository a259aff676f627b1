"""A timeline picture (SVG) of every covenant's stages over time, readable on paper.

One lane per covenant, labelled with its sector; each stage a bar in the stage's colour from
stages.yaml, up to the report date (a dashed line); a black diamond where each of its targets'
deadlines lay (the axis runs on past the report date to the last deadline, at most three years
on); years and half-years on the axis; a legend. Plain SVG text, no dependencies. The Word
report draws the same picture as a PNG from the same lanes and scale (reports/timeline_png.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from imvo_workflow.domain.value import value
from imvo_workflow.reports.memo import Memo
from imvo_workflow.reports.wording import nl

LABEL_WIDTH = 250
PLOT_WIDTH = 650
LANE = 20
TOP = 30


@value
class Lane:
    label: str
    #: (stage, since) in order; each lasts until the next one or the report date.
    steps: list[tuple[str, date]]
    #: (deadline, what) of the covenant's targets.
    marks: tuple[tuple[date, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Scale:
    """Where a day lies across the plot: from 1 January of the first year to `end`."""

    first: date
    end: date
    #: Days from `first` to `end` (at least 1), counted once: `x` places tens of thousands.
    days: int

    @classmethod
    def of(cls, lanes: list[Lane], as_of: date) -> Scale:
        starts = [since for lane in lanes for _, since in lane.steps]
        first = date(min(starts).year, 1, 1) if starts else date(as_of.year, 1, 1)
        limit = date(as_of.year + 3, 12, 31)
        ends = [day for lane in lanes for day, _ in lane.marks if as_of < day <= limit]
        end = max([as_of, *ends])
        return cls(first, end, max((end - first).days, 1))

    def x(self, day: date) -> float:
        return LABEL_WIDTH + PLOT_WIDTH * (day - self.first).days / self.days

    def shows(self, day: date) -> bool:
        return self.first <= day <= self.end

    def ticks(self) -> list[tuple[date, str]]:
        """1 January (the year) and 1 July ("jul") of every year on the axis."""
        found = []
        for year in range(self.first.year, self.end.year + 1):
            for month, label in ((1, str(year)), (7, "jul")):
                if self.shows(tick := date(year, month, 1)):
                    found.append((tick, label))
        return found


def canvas_width(labels: dict[str, str]) -> int:
    """Wide enough for the plot and for the legend's last label (about 7 px a letter)."""
    last = list(labels.values())[-1] if labels else ""
    legend = LABEL_WIDTH + 110 * max(len(labels) - 1, 0) + 16 + 7 * len(last) + 10
    return max(LABEL_WIDTH + PLOT_WIDTH + 20, legend)


class _Lanes:
    """The lanes' SVG elements: bars and diamonds, each with its title, in tens of thousands.

    Written from memos of what repeats (a stage's colour and label, a target's name, a day's
    place across the plot, its date), and each lane's label escaped once: escaping, formatting
    dates and placing days for every element on its own made the timeline cost 150 ms.
    """

    def __init__(
        self, scale: Scale, as_of: date, colors: dict[str, str], labels: dict[str, str]
    ) -> None:
        self.scale, self.as_of, self.colors, self.labels = scale, as_of, colors, labels
        self.x: Memo[date, float] = Memo(scale.x)
        self.stage: Memo[str, tuple[str, str]] = Memo(self._stage)
        self.what: Memo[str, str] = Memo(escape)
        self.mark_x: Memo[date, tuple[str, str, str]] = Memo(self._mark_x)

    def _stage(self, stage: str) -> tuple[str, str]:
        """A stage's fill and its label, escaped."""
        return self.colors.get(stage, "#ccc"), escape(self.labels.get(stage, stage))

    def _mark_x(self, day: date) -> tuple[str, str, str]:
        """A diamond's middle, right and left corner across the plot."""
        cx = self.x[day]
        return f"{cx:.1f}", f"{cx + 4:.1f}", f"{cx - 4:.1f}"

    def lane(self, parts: list[str], y: int, lane: Lane) -> None:
        """One lane: its label, a bar per stage, a diamond per target's deadline on the plot."""
        label, x, first, end = escape(lane.label), self.x, self.scale.first, self.scale.end
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end">{label}</text>')
        ends = [since for _, since in lane.steps[1:]] + [self.as_of]
        for (stage, since), until in zip(lane.steps, ends, strict=False):
            left = x[since if since > first else first]
            width = x[until] - left
            fill, said = self.stage[stage]
            parts.append(
                f'<rect x="{left:.1f}" y="{y + 3}" width="{width if width > 1.5 else 1.5:.1f}" '
                f'height="{LANE - 6}" fill="{fill}"><title>{label}: {said} vanaf {nl(since)}'
                "</title></rect>"
            )
        middle = y + LANE // 2  # the diamonds' corners lie on whole rows: "{row}.0"
        for day, what in lane.marks:
            if first <= day <= end:
                cx, east, west = self.mark_x[day]
                parts.append(
                    f'<path d="M{cx} {middle - 5}.0 L{east} {middle}.0 L{cx} {middle + 5}.0 '
                    f'L{west} {middle}.0 Z" fill="#000"><title>{label}: doel {self.what[what]}, '
                    f"uiterlijk {nl(day)}</title></path>"
                )


def timeline_svg(
    lanes: list[Lane], as_of: date, colors: dict[str, str], labels: dict[str, str]
) -> str:
    scale = Scale.of(lanes, as_of)
    x = scale.x
    height = TOP + LANE * len(lanes) + 60
    width = canvas_width(labels)
    bottom = TOP + LANE * len(lanes)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="Tijdlijn van de fasen per sector" '
        'font-family="sans-serif" font-size="11">',
        f"<title>Fasen per sector tot {as_of:%d-%m-%Y}</title>",
    ]
    for tick, label in scale.ticks():
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="{TOP - 6}" x2="{x(tick):.1f}" y2="{bottom}" '
            f'stroke="#bbb" stroke-width="{1 if tick.month == 1 else 0.5}"/>'
        )
        parts.append(f'<text x="{x(tick) + 2:.1f}" y="{TOP - 10}" fill="#333">{label}</text>')
    drawing = _Lanes(scale, as_of, colors, labels)
    for row, lane in enumerate(lanes):
        drawing.lane(parts, TOP + row * LANE, lane)
    parts.append(
        f'<line x1="{x(as_of):.1f}" y1="{TOP - 6}" x2="{x(as_of):.1f}" y2="{bottom}" '
        'stroke="#000" stroke-dasharray="4 3"><title>Peildatum</title></line>'
    )
    legend_y = TOP + LANE * len(lanes) + 25
    parts.append(
        f'<path d="M{LABEL_WIDTH - 110} {legend_y - 10} l5 6 l-5 6 l-5 -6 Z" fill="#000"/>'
        f'<text x="{LABEL_WIDTH - 100}" y="{legend_y}">deadline doel</text>'
    )
    for i, (stage, label) in enumerate(labels.items()):
        lx = LABEL_WIDTH + i * 110
        parts.append(
            f'<rect x="{lx}" y="{legend_y - 10}" width="12" height="12" fill="{colors.get(stage, "#ccc")}"/>'
        )
        parts.append(f'<text x="{lx + 16}" y="{legend_y}">{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
