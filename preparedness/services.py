"""Writes of the core: administrative areas, organizations, accounts."""
