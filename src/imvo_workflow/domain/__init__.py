"""The domain core: plain Python, no database, web or scheduler imports."""
