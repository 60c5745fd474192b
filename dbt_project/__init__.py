"""The dbt project, installed as package data of `njia` (`njia.dbt_project`): njia/paths.py finds it with
importlib.resources, in a checkout and in an installed wheel alike. dbt itself ignores this file."""
