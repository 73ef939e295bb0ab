"""Plumbing every app may import, and which imports none of ours: log context, keyset pages,
query-parameter errors, the htmx partial decorator. Not a Django app (no models, no templates)."""
