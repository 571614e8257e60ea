"""Rooms: owns district offices, their rooms and bookings; chooses the office nearest the family."""
