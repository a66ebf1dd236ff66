"""Widgets with one job each."""
