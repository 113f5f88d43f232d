# In sentences: 5 Dec 2026 (Django's English is "Dec. 5, 2026").
DATE_FORMAT = "j M Y"
# In tables and the header: 2026-12-05.
SHORT_DATE_FORMAT = "Y-m-d"
# A reminder's day: 5 December.
MONTH_DAY_FORMAT = "j F"
