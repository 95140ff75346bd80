"""Server-rendered bar charts (SVG drawn by a template): no JavaScript, no CDN.

`bar_chart` turns rows of numbers into the geometry a template draws (templates/portal/
_bar_chart.html): grouped bars per row (one per series), a y axis with round ticks, labels under
each group. It knows nothing of boletos; the caller names the series."""

import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 30
TICKS = 4


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    color: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    labels: list[tuple[float, str]] = field(default_factory=list)  # (x centre, label)
    series: list[Series] = field(default_factory=list)
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    empty: bool = True


def nice_ceiling(value: float) -> int:
    """The top of the y axis: TICKS × a round step (1, 2, 2.5 or 5 × 10^k, whole numbers), the
    smallest not below ``value``, so every tick is a round count."""
    if value <= TICKS:
        return TICKS
    raw_step = value / TICKS
    magnitude = 10 ** math.floor(math.log10(raw_step))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw_step and step == int(step):
            return int(step) * TICKS
    return int(math.ceil(raw_step)) * TICKS


def bar_chart(*, rows: list[dict], label_key: str, series: list[Series], number=str) -> Chart:
    """``rows``: one dict per group (a month), holding ``label_key`` and one number per series.
    ``number`` formats a value for the ticks and the bars' titles (pt-BR digits)."""
    chart = Chart(series=list(series))
    if not rows:
        return chart
    top_value = max((row.get(s.key) or 0) for row in rows for s in series)
    chart.empty = top_value == 0
    ceiling = nice_ceiling(top_value)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    group = plot_width / len(rows)
    bar_width = group * 0.8 / max(len(series), 1)
    for tick in range(TICKS + 1):
        value = ceiling * tick // TICKS
        chart.ticks.append((round(TOP + plot_height * (1 - tick / TICKS), 2), number(value)))
    for index, row in enumerate(rows):
        start = LEFT + group * index + group * 0.1
        chart.labels.append((round(LEFT + group * (index + 0.5), 2), str(row[label_key])))
        for position, item in enumerate(series):
            value = row.get(item.key) or 0
            height = plot_height * value / ceiling
            chart.bars.append(
                Bar(
                    x=round(start + bar_width * position, 2),
                    y=round(TOP + plot_height - height, 2),
                    width=round(max(bar_width - 1, 1), 2),
                    height=round(height, 2),
                    color=item.color,
                    title=f"{row[label_key]} · {item.label}: {number(value)}",
                )
            )
    return chart
