"""A tiny module for the python provider in the compatibility experiments (on PYTHONPATH)."""
import json


def value(v=None):
    return v


def add(a, b):
    return a + b


def greet(name, configuration=None):
    return {"hello": name, "who": (configuration or {}).get("who")}


def fail(message="boom"):
    raise ValueError(message)


def check(value=None, expected="up"):
    """Tolerance probe: the probe's output is passed as `value`."""
    return expected in json.dumps(value)
