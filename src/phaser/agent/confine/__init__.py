"""Confinement: one policy for every process phaser starts during a phase, and its backends."""
