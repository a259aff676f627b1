"""Reports: the progress report for any date, its summary and timeline picture."""
