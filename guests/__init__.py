"""hvsim package."""
