"""KPI-1's chart, drawn on the server as SVG (no JavaScript; the table stays the accessible
form): one small bar chart per agreement type and kind, a bar per month, the target as a dashed
line. A bar below its target is dark red *and* carries a "!" above it, so that the colour is
never the only sign; each chart is ``role="img"`` with a title and a text alternative naming
the months below target. Colours are the site's: #00487c and #a4000f on white (both above 7:1).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from django.utils import dateformat
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from logistics.selectors.kpi import Row

WIDTH: Final = 360
HEIGHT: Final = 170
LEFT: Final = 44
RIGHT: Final = 352
TOP: Final = 16
BOTTOM: Final = 130
ON_TARGET_FILL: Final = "#00487c"
BELOW_TARGET_FILL: Final = "#a4000f"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label_x: float
    month_label: str
    fill: str
    below_target: bool
    has_data: bool


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    description: str
    bars: list[Bar]
    ticks: list[Tick]
    target_y: float
    target_label: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = RIGHT
    bottom: int = BOTTOM


def _percent_text(value: Decimal) -> str:
    return number_format(value, 2)


def chart_for(row: Row, *, heading: str) -> Chart:
    """The chart of one row of the table: bars from ``low`` to 100 %, where ``low`` is 80 %
    unless some month fell below that (then 0 %)."""
    values = [cell.percent for cell in row.cells if cell.percent is not None]
    low = Decimal(80) if all(v >= 80 for v in values) else Decimal(0)

    def y_of(percent: Decimal) -> float:
        share = (max(percent, low) - low) / (Decimal(100) - low)
        return round(BOTTOM - float(share) * (BOTTOM - TOP), 1)

    slot = (RIGHT - LEFT) / max(len(row.cells), 1)
    bars: list[Bar] = []
    below: list[str] = []
    for index, cell in enumerate(row.cells):
        x = LEFT + index * slot
        month_text = dateformat.format(cell.month, "F Y")
        top = y_of(cell.percent) if cell.percent is not None else BOTTOM
        if cell.below_target and cell.percent is not None:
            below.append(f"{month_text} ({_percent_text(cell.percent)} %)")
        bars.append(
            Bar(
                x=round(x + slot * 0.15, 1),
                y=top,
                width=round(slot * 0.7, 1),
                height=round(BOTTOM - top, 1),
                label_x=round(x + slot / 2, 1),
                month_label=dateformat.format(cell.month, "M"),
                fill=BELOW_TARGET_FILL if cell.below_target else ON_TARGET_FILL,
                below_target=cell.below_target,
                has_data=cell.percent is not None,
            )
        )
    ticks = [Tick(y=y_of(low), label=f"{low} %"), Tick(y=y_of(Decimal(100)), label="100 %")]
    target_text = _("Target %(target)s %%") % {"target": row.target}
    if below:
        summary = _("Below target in: %(months)s.") % {"months": ", ".join(below)}
    else:
        summary = _("No month below target.")
    description = " ".join(
        [
            heading + ".",
            target_text + ".",
            summary,
            _("Bars below target are dark red and marked with an exclamation mark."),
            _("The table above holds every figure."),
        ]
    )
    return Chart(
        key=row.key,
        title=heading,
        description=description,
        bars=bars,
        ticks=ticks,
        target_y=y_of(row.target),
        target_label=target_text,
    )
