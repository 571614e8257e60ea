"""Notifications' adapters: its store (contact details encrypted) and its channels."""
