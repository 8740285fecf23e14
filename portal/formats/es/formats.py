DATETIME_FORMAT = r"D j \d\e F \d\e Y, H:i"
DATE_FORMAT = r"D j \d\e F \d\e Y"
