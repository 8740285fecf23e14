# The portal's English: day before month, 24-hour clock ("Mon 3 Mar 2031, 09:00").
DATETIME_FORMAT = "D j M Y, H:i"
DATE_FORMAT = "D j M Y"
TIME_FORMAT = "H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
