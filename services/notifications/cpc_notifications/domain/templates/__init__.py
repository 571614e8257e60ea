"""Message templates, one module per language; English is complete, others may be partial."""
