"""lawstats: township statistics from rule-of-law work reports, in DuckDB, with indicators and charts."""

__version__ = "0.1.0"
