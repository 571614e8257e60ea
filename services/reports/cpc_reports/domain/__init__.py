"""The reports rules, in pure Python."""
