"""Detectors: organization."""
