"""compare: placeholder."""
NAME = "compare"
