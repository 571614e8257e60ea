"""Notifications: owns contact preferences (encrypted), messages and the delivery log."""
