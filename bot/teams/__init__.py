"""The Teams edge: the aiohttp app, the activity handler, verb routing, the one Bot Framework
gateway, the outbox sender and conversation references. Only this package imports botbuilder."""
