"""Scheduling's adapters: its MongoDB store."""
