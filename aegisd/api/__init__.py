"""HTTP handlers, one module per resource, each with its own ``router``."""
