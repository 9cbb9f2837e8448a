"""The billing floor's writes."""
