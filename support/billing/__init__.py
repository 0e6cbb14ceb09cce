"""Billing: what an answer may know of an account, subscription changes, payment retries, dunning."""
