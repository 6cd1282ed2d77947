"""Line charts as SVG, drawn on the server by pygal (PyPI), with none of its JavaScript
(js=[]: the Content-Security-Policy allows no foreign script, and nothing here needs one;
the configuration script pygal writes anyway is taken out).

Readable without colour: every series has its own dash pattern and its name printed at its
last point, as well as in the legend; the page puts the same numbers in a table and a CSV.
The SVG is served as an image of its own (capacity/views.py): pygal styles it with a <style>
element, which the page's policy (style-src 'self') would refuse inline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree

import pygal  # type: ignore[import-untyped]  # pygal ships no type information
from pygal.style import Style  # type: ignore[import-untyped]

# solid, long dash, dots, dash-dot, short dash: told apart in grey too
DASHES = ("", "10,5", "2,4", "12,4,2,4", "5,3")
DOTS_UP_TO = 30
COLOURS = ("#0d6efd", "#6c757d", "#d63384", "#198754", "#fd7e14")
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    colors=COLOURS,
    font_family="sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    title_font_size=14,
    value_label_font_size=11,
    # solid light guides: a dashed guide would look like the dashed capacity line
    guide_stroke_color="#dee2e6",
    guide_stroke_dasharray="none",
    major_guide_stroke_color="#ced4da",
    major_guide_stroke_dasharray="none",
)


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[datetime, int | None]]


def _time_label(value: datetime) -> str:
    return value.strftime("%m-%d %H:%M")


def line_chart(title: str, series: Sequence[Series], y_title: str = "") -> bytes:
    chart = pygal.DateTimeLine(
        js=[],
        style=STYLE,
        title=title,
        y_title=y_title,
        width=800,
        height=320,
        # a dot per sample only while there are few (one sample draws no line); beyond that
        # they cost a node and a tooltip each and hide nothing the dashes do not show
        show_dots=max((len(s.points) for s in series), default=0) <= DOTS_UP_TO,
        dots_size=3,
        stroke_style={"width": 2},
        x_label_rotation=20,
        x_value_formatter=_time_label,
        legend_at_bottom=True,
        truncate_legend=-1,
        print_labels=True,
        include_x_axis=True,
        show_minor_x_labels=False,
        x_labels_major_count=8,
    )
    for i, s in enumerate(series):
        values: list[object] = [(t, v) for t, v in s.points if v is not None]
        if values:  # the series' name at its last point: a direct label
            values[-1] = {"value": values[-1], "label": s.label}
        chart.add(
            s.label,
            values,
            stroke_style={"width": 2, "dasharray": DASHES[i % len(DASHES)]},
        )
    # The data pygal's JavaScript would read: no script runs in an <img>, so none is sent.
    root = chart.render_tree()
    for parent in root.iter():
        for script in [c for c in parent if str(c.tag).endswith("script")]:
            parent.remove(script)
    return (
        b"<?xml version='1.0' encoding='utf-8'?>\n"
        + ElementTree.tostring(root, encoding="unicode").encode()
    )
