"""Payments: the gateway port (port.py), its embedded sandbox and its Stripe adapter."""
