"""Renderers, one per format, each from a Progress value."""
