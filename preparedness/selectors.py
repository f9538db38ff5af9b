"""Reads of the core."""
