"""Claude Code as the agent of a phase (``claude-code:MODEL``); see docs/claude-code.md.

Kept empty of imports: the hook and the MCP bridge run as ``python -m`` modules of this package
and should start fast.
"""
