"""Progress over time: overall and per-topic progress at each recorded scan and closed review,
drawn with QPainter (no chart library).

`chart_model` turns the workspace's progress points into plain values (series of points placed
between 0 and 1 in time, percentages); `ProgressChart` only paints them, with axis labels and a
legend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from checklist_app.reviews import ProgressPoint

OVERALL = "Overall"
OVERALL_COLOR = "#1f2328"
TOPIC_COLORS = ("#1a7f37", "#0969da", "#cf222e", "#9a6700", "#8250df", "#bf3989", "#1b7c83",
                "#953800", "#57606a")
GRID_PERCENTS = (0, 25, 50, 75, 100)


@dataclass(frozen=True, slots=True)
class ChartPoint:
    x: float
    """0 (the first point) to 1 (the last), by time; by order when all share one moment."""
    percent: float
    kind: str
    """"scan" or "review"."""
    label: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    color: str
    points: tuple[ChartPoint, ...]


@dataclass(frozen=True, slots=True)
class ChartModel:
    series: tuple[Series, ...]
    """Overall first, then each topic in checklist order."""
    start: datetime | None
    end: datetime | None

    @property
    def empty(self) -> bool:
        return not self.series or not self.series[0].points


def chart_model(points: Sequence[ProgressPoint],
                topic_titles: Mapping[str, str] | None = None) -> ChartModel:
    """The series to draw: overall progress, then one per topic (titled by `topic_titles`,
    else by the topic id) in the order the topics first appear."""
    if not points:
        return ChartModel((), None, None)
    titles = topic_titles or {}
    first, last = points[0].at.timestamp(), points[-1].at.timestamp()
    span = last - first

    def place(point: ProgressPoint, index: int) -> float:
        if span > 0:
            return (point.at.timestamp() - first) / span
        return index / (len(points) - 1) if len(points) > 1 else 0.5

    places = [place(point, index) for index, point in enumerate(points)]
    overall = Series(OVERALL, OVERALL_COLOR, tuple(
        ChartPoint(x, point.percent, point.kind, point.label, point.at)
        for x, point in zip(places, points, strict=True)))
    order: list[str] = []
    for point in points:
        order += [topic for topic, _ in point.topics if topic not in order]
    series = [overall]
    for number, topic in enumerate(order):
        found = tuple(
            ChartPoint(x, tally.percent, point.kind, point.label, point.at)
            for x, point in zip(places, points, strict=True)
            for name, tally in point.topics if name == topic and tally.total > 0)
        if found:
            series.append(Series(titles.get(topic, topic),
                                 TOPIC_COLORS[number % len(TOPIC_COLORS)], found))
    return ChartModel(tuple(series), points[0].at, points[-1].at)


class ProgressChart(QWidget):
    """Draws a `ChartModel`: percent (0-100) up, time across, a legend below."""

    MARGIN = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ChartModel((), None, None)
        self.setMinimumSize(320, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Progress over time")

    def set_points(self, points: Sequence[ProgressPoint],
                   topic_titles: Mapping[str, str] | None = None) -> None:
        self.model = chart_model(points, topic_titles)
        self.setToolTip(_tooltip(self.model))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(520, 320)

    def legend_rows(self, width: int) -> list[list[Series]]:
        """The legend's entries, wrapped to `width`."""
        metrics = QFontMetrics(self.font())
        rows: list[list[Series]] = [[]]
        used = 0
        for series in self.model.series:
            needed = 22 + metrics.horizontalAdvance(series.name) + 14
            if rows[-1] and used + needed > width:
                rows.append([])
                used = 0
            rows[-1].append(series)
            used += needed
        return rows

    def plot_area(self) -> QRectF:
        metrics = QFontMetrics(self.font())
        line = metrics.height()
        legend = len(self.legend_rows(self.width() - 2 * self.MARGIN)) * (line + 4)
        left = self.MARGIN + metrics.horizontalAdvance("100%") + 6
        top = self.MARGIN + line / 2
        bottom = self.height() - self.MARGIN - legend - line - 8
        right = self.width() - self.MARGIN - metrics.horizontalAdvance("0000-00-00") / 2
        return QRectF(left, top, max(10.0, right - left), max(10.0, bottom - top))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.windowText().color()
        painter.fillRect(self.rect(), palette.base())
        if self.model.empty:
            painter.setPen(text)
            painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter),
                             "No recorded scans yet: progress over time shows here after "
                             "the first scan.")
            return
        area = self.plot_area()
        self._draw_axes(painter, area, text)
        for series in reversed(self.model.series):  # overall on top
            self._draw_series(painter, area, series)
        self._draw_legend(painter, area, text)

    def _draw_axes(self, painter: QPainter, area: QRectF, text: QColor) -> None:
        metrics = QFontMetrics(self.font())
        grid = QColor(text)
        grid.setAlpha(50)
        for percent in GRID_PERCENTS:
            y = area.bottom() - area.height() * percent / 100
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(text)
            label = f"{percent}%"
            painter.drawText(QPointF(area.left() - 6 - metrics.horizontalAdvance(label),
                                     y + metrics.ascent() / 2 - 1), label)
        start, end = self.model.start, self.model.end
        if start is None or end is None:
            return
        baseline = area.bottom() + metrics.height() + 2
        painter.setPen(text)
        labels = [(area.left(), f"{start:%Y-%m-%d}")]
        if end.date() != start.date():
            labels.append((area.right(), f"{end:%Y-%m-%d}"))
        else:
            labels[0] = (area.left(), f"{start:%Y-%m-%d %H:%M}")
            if end != start:
                labels.append((area.right(), f"{end:%H:%M}"))
        for x, label in labels:
            width = metrics.horizontalAdvance(label)
            left = min(max(x - width / 2, 0.0), self.width() - width - 1.0)
            painter.drawText(QPointF(left, baseline), label)

    def _draw_series(self, painter: QPainter, area: QRectF, series: Series) -> None:
        color = QColor(series.color)
        overall = series.name == OVERALL and series is self.model.series[0]
        painter.setPen(QPen(color, 2.6 if overall else 1.4))
        coords = [self.position(area, point) for point in series.points]
        if len(coords) > 1:
            painter.drawPolyline(QPolygonF(coords))
        painter.setBrush(color)
        for point, at in zip(series.points, coords, strict=True):
            size = 4.5 if overall else 3.0
            if point.kind == "review":
                painter.drawPolygon(QPolygonF([
                    QPointF(at.x(), at.y() - size - 1), QPointF(at.x() + size + 1, at.y()),
                    QPointF(at.x(), at.y() + size + 1), QPointF(at.x() - size - 1, at.y())]))
            else:
                painter.drawEllipse(at, size * 0.7, size * 0.7)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def position(self, area: QRectF, point: ChartPoint) -> QPointF:
        return QPointF(area.left() + area.width() * point.x,
                       area.bottom() - area.height() * point.percent / 100)

    def _draw_legend(self, painter: QPainter, area: QRectF, text: QColor) -> None:
        metrics = QFontMetrics(self.font())
        line = metrics.height()
        y = area.bottom() + line + 10
        for row in self.legend_rows(self.width() - 2 * self.MARGIN):
            x = float(self.MARGIN)
            y += line + 4
            for series in row:
                painter.setPen(QPen(QColor(series.color), 3))
                middle = y - metrics.ascent() / 2 + 1
                painter.drawLine(QPointF(x, middle), QPointF(x + 16, middle))
                painter.setPen(text)
                painter.drawText(QPointF(x + 22, y), series.name)
                x += 22 + metrics.horizontalAdvance(series.name) + 14


def _tooltip(model: ChartModel) -> str:
    if model.empty:
        return ""
    overall = model.series[0]
    lines = [f"{p.at:%Y-%m-%d %H:%M} {p.kind} {p.label}: {p.percent:.1f}%"
             for p in overall.points[-12:]]
    return "Overall progress (dots: scans, diamonds: closed reviews)\n" + "\n".join(lines)
