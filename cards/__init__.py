"""Adaptive Card builders (domain object -> card JSON) and payload parsers. No I/O here."""
