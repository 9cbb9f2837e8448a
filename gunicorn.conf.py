"""Gunicorn's settings, read from the working directory when the web process starts.

LEAK-1: the access log (when one is switched on with ``--access-logfile``) writes the path without
its query string and without the referrer, whose query string is the previous page's: a name
typed into an admin search box travels in one. Django's request log does the same
(``config.logging.StripQueryStrings``).
"""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
