"""The scheduling rules of DOMAIN.md, in pure Python."""
