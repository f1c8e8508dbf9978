"""Business rules: everything that talks to AcceptOn and writes the local records.

Views, admin actions, tasks and the management command call these functions and nothing else.
"""
