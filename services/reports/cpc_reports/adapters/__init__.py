"""Reports' adapters: its MongoDB store."""
