"""Rooms' adapters: its MongoDB store."""
