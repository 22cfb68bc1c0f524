"""Operator tools: the `marat` CLI, the demo seed and the Teams app package."""
