"""Detectors: security."""
