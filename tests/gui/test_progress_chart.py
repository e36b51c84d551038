"""Progress over time: the chart's model from progress points (no window), and its painting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pytestqt.qtbot import QtBot

from checklist_app.gui.progress_chart import (
    OVERALL,
    OVERALL_COLOR,
    TOPIC_COLORS,
    ChartPoint,
    ProgressChart,
    chart_model,
)
from checklist_app.progress import Tally
from checklist_app.reviews import ProgressPoint

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def point(hours: float, kind: str, label: str, met: int,
          topics: tuple[tuple[str, Tally], ...]) -> ProgressPoint:
    return ProgressPoint(T0 + timedelta(hours=hours), kind, label, None,
                         Tally(total=4, met=met, unmet=4 - met), topics)


POINTS = (
    point(0, "scan", "abc", 1, (("security", Tally(2, 1, 1)), ("testing", Tally(2, 0, 2)))),
    point(30, "scan", "def", 2, (("security", Tally(2, 2, 0)), ("testing", Tally(2, 0, 2)))),
    point(40, "review", "Release 1", 3, (("security", Tally(2, 2, 0)),
                                          ("testing", Tally(2, 1, 1)),
                                          ("empty", Tally()))),
)


def test_the_model_has_overall_then_each_topic_placed_by_time() -> None:
    model = chart_model(POINTS, {"security": "Security Measures"})
    assert [(s.name, s.color) for s in model.series] == [
        (OVERALL, OVERALL_COLOR), ("Security Measures", TOPIC_COLORS[0]),
        ("testing", TOPIC_COLORS[1])]
    assert model.series[0].points == (
        ChartPoint(0.0, 25.0, "scan", "abc", T0),
        ChartPoint(0.75, 50.0, "scan", "def", T0 + timedelta(hours=30)),
        ChartPoint(1.0, 75.0, "review", "Release 1", T0 + timedelta(hours=40)),
    )
    assert [(p.x, p.percent) for p in model.series[1].points] == [
        (0.0, 50.0), (0.75, 100.0), (1.0, 100.0)]
    assert [(p.x, p.percent) for p in model.series[2].points] == [
        (0.0, 0.0), (0.75, 0.0), (1.0, 50.0)]
    assert (model.start, model.end) == (T0, T0 + timedelta(hours=40))


def test_points_at_one_moment_are_spread_by_order_and_none_is_empty() -> None:
    same = tuple(point(0, "scan", str(n), n, ()) for n in range(3))
    assert [p.x for p in chart_model(same).series[0].points] == [0.0, 0.5, 1.0]
    assert [p.x for p in chart_model(same[:1]).series[0].points] == [0.5]
    empty = chart_model(())
    assert empty.empty and empty.series == () and empty.start is None


def test_the_widget_paints_lines_where_the_model_says(qtbot: QtBot) -> None:
    chart = ProgressChart()
    qtbot.addWidget(chart)
    chart.resize(480, 300)
    blank = chart.grab().toImage()
    chart.set_points(POINTS, {"security": "Security Measures"})
    assert chart.toolTip().endswith("2026-11-03 01:00 review Release 1: 75.0%")
    area = chart.plot_area()
    assert area.width() > 300 and area.height() > 120
    image = chart.grab().toImage()
    assert image != blank
    last = chart.position(area, chart.model.series[0].points[-1])
    assert (round(last.x()), round(last.y())) == (round(area.right()),
                                                  round(area.bottom() - area.height() * 0.75))
    pixel = image.pixelColor(round(last.x()), round(last.y()))
    assert pixel.name() == OVERALL_COLOR
    assert [[s.name for s in row] for row in chart.legend_rows(460)] == [
        [OVERALL, "Security Measures", "testing"]]
