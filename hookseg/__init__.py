"""hookseg."""
