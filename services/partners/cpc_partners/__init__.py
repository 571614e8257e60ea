"""Partners: translates the internal events into the published language partner systems subscribe to."""
