"""Helpers shared by every test level: builders, fakes, harnesses and servers. Fixtures
live in the conftest.py files; everything importable lives here."""
