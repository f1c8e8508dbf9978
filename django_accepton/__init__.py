"""Take and manage AcceptOn payments from a Django store."""

__version__ = "0.1.0"
