"""Local stand-ins for market-data services, speaking each service's wire protocol.

Each fake is a small HTTP server on 127.0.0.1 driven by the real client
library (yfinance, alpaca-py, ccxt): the JSON shapes, pagination and auth
headers are the service's own, and faults (a 429 once, a 500 on page two) can
be injected to exercise retries and partial failures.
"""
