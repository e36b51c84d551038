"""Status icons drawn with QPainter (no image files), in colours that read on light and dark
palettes alike."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap

from checklist_app.gui.wording import Badge

# (light palette, dark palette): mid tones that keep contrast against both backgrounds
_COLOURS: dict[Badge, tuple[str, str]] = {
    Badge.MET: ("#2e8b47", "#4cbb6c"),
    Badge.UNMET: ("#c83c32", "#f06a5f"),
    Badge.NA: ("#7d838c", "#9aa0a8"),
    Badge.UNKNOWN: ("#c98a00", "#e8b339"),
    Badge.ERROR: ("#8e44ad", "#b77ad0"),
}
_REVIEW_COLOURS = ("#c98a00", "#e8b339")
_SIZES = (16, 24, 32, 48)


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def badge_colour(badge: Badge, palette: QPalette) -> QColor:
    light, dark = _COLOURS[badge]
    return QColor(dark if is_dark(palette) else light)


def review_colour(palette: QPalette) -> QColor:
    light, dark = _REVIEW_COLOURS
    return QColor(dark if is_dark(palette) else light)


class StatusIcons:
    """Makes and keeps the icons for one palette; ask again after the palette changes."""

    def __init__(self, palette: QPalette, device_ratio: float = 1.0) -> None:
        self._palette = QPalette(palette)
        self._ratio = max(device_ratio, 1.0)
        self._badges: dict[Badge, QIcon] = {}
        self._review: QIcon | None = None

    def badge(self, badge: Badge) -> QIcon:
        icon = self._badges.get(badge)
        if icon is None:
            icon = QIcon()
            for size in _SIZES:
                icon.addPixmap(self._draw_badge(badge, size))
            self._badges[badge] = icon
        return icon

    def review(self) -> QIcon:
        if self._review is None:
            icon = QIcon()
            for size in _SIZES:
                icon.addPixmap(self._draw_flag(size))
            self._review = icon
        return self._review

    def _canvas(self, size: int) -> QPixmap:
        pixmap = QPixmap(round(size * self._ratio), round(size * self._ratio))
        pixmap.setDevicePixelRatio(self._ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        return pixmap

    def _draw_badge(self, badge: Badge, size: int) -> QPixmap:
        pixmap = self._canvas(size)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = badge_colour(badge, self._palette)
        margin = size * 0.06
        circle = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(circle)
        pen = QPen(QColor("white"), max(1.5, size * 0.12))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        s = size
        if badge is Badge.MET:
            path = QPainterPath(QPointF(s * 0.28, s * 0.52))
            path.lineTo(QPointF(s * 0.44, s * 0.68))
            path.lineTo(QPointF(s * 0.72, s * 0.36))
            painter.drawPath(path)
        elif badge is Badge.UNMET:
            painter.drawLine(QPointF(s * 0.33, s * 0.33), QPointF(s * 0.67, s * 0.67))
            painter.drawLine(QPointF(s * 0.67, s * 0.33), QPointF(s * 0.33, s * 0.67))
        elif badge is Badge.NA:
            painter.drawLine(QPointF(s * 0.3, s * 0.5), QPointF(s * 0.7, s * 0.5))
        else:
            glyph = "?" if badge is Badge.UNKNOWN else "!"
            font = painter.font()
            font.setBold(True)
            font.setPixelSize(max(8, round(s * 0.68)))
            painter.setFont(font)
            painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, glyph)
        painter.end()
        return pixmap

    def _draw_flag(self, size: int) -> QPixmap:
        pixmap = self._canvas(size)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = review_colour(self._palette)
        s = size
        pen = QPen(colour, max(1.5, s * 0.1))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawLine(QPointF(s * 0.25, s * 0.12), QPointF(s * 0.25, s * 0.9))
        flag = QPainterPath(QPointF(s * 0.25, s * 0.14))
        flag.lineTo(QPointF(s * 0.82, s * 0.3))
        flag.lineTo(QPointF(s * 0.25, s * 0.52))
        flag.closeSubpath()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawPath(flag)
        painter.end()
        return pixmap
