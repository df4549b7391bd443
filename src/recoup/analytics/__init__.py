"""Error analytics: grouping, template mining, classification, correlation, trends (the `analytics` extra)."""
