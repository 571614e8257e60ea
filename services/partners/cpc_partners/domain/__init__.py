"""The partners service's projection of cases and conferences, and what it publishes from them."""
