"""syndicate: publish job postings from one source of truth to every job board."""

__version__ = "0.1.0"
