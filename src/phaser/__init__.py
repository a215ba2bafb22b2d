"""phaser: run AI coding agents phase by phase from a living markdown plan."""

__version__ = "0.1.0"
