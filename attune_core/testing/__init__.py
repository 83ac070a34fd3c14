"""Testing utilities for Attune users and pack authors (fakes, factories, fixtures)."""
