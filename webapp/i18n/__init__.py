"""Words and dates as staff read them, in Italian or English."""
