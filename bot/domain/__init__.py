"""The pure core: rules of the MARAT process with no framework imports (stdlib and holidays only).

A test (tests/unit/test_layers.py) fails if anything here imports botbuilder, aiohttp,
SQLAlchemy or APScheduler.
"""
