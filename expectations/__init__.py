"""The Great Expectations suites, installed as package data of `njia` (`njia.expectations`): njia/paths.py
finds them with importlib.resources, in a checkout and in an installed wheel alike."""
