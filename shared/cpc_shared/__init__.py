"""Contracts and plumbing shared by the four conference services: done once, imported everywhere."""
