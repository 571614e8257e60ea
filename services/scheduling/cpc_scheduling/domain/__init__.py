"""The scheduling rules of docs/domain.md, in pure Python."""
