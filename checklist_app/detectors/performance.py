"""Detectors: performance."""
