# English dates as the portal has always shown them (24-hour clock, day before month), instead of
# Django's US defaults ("Nov. 24, 2026, 6:40 p.m."). German, French and Spanish keep Django's own.
DATE_FORMAT = "D j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "D j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "D j M, H:i"
