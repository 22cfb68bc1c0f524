"""The use cases of the MARAT, one module per step of the process.

Each use case is a small class built from a ``UseCaseContext`` (and, where it sends cards or
looks people up, the ports it needs), composed in the composition root (bot/teams/app.py),
never by inheritance. Use cases check permissions from the directory, run each step in one
unit of work, return outcomes (not exceptions) for what a card must show, and build no card.
"""
