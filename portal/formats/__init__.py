"""Date formats per language (FORMAT_MODULE_PATH): the locale's own, with the weekday that meeting
times need; anything not named here is Django's format for that language."""
