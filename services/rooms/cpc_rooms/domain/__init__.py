"""The rooms rules, in pure Python."""
