"""aegisd: a self-hosted web test runner daemon speaking the AegisRunner REST API."""

__version__ = "0.1.0"
