"""Detectors: database."""
