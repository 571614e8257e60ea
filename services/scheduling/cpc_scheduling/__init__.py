"""Scheduling: owns conferences, from request to statutory deadline, chair, slot and room."""
