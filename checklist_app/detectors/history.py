"""Detectors: history."""
