"""APScheduler wiring only: a per-replica ticker that runs the reminder sweep.

APScheduler is imported here and nowhere else.
"""
