"""The main job: a council's month through the whole system on the local stack, and a report of it."""
