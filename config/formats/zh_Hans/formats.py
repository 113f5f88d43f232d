# In sentences: 2026年12月5日 (Django's own). In tables and the header: 2026-12-05, as
# Chinese banking apps list dates.
SHORT_DATE_FORMAT = "Y-m-d"
# A reminder's day: 12月5日 (Django's pads the month: 12月05日, 09月5日).
MONTH_DAY_FORMAT = "n月j日"
# Amounts grouped by thousands with commas, ¥10,000.00, as Chinese banking apps show them;
# Django's Chinese formats group nothing.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
