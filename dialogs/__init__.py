"""One module per interaction: parse the input, call a use case, render a card. Thin.

Dialogs return a ``Reply`` value; the Teams edge (bot/handler.py, bot/gateway.py) delivers it,
so no dialog calls Bot Framework itself.
"""
