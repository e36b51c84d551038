"""Detectors: advanced."""
