"""Detectors: testing."""
