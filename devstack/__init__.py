"""The local stack: every Planet process on this machine, started and stopped together.

Used by ``make run`` (``python -m devstack up``) and by the system tests, which
start their own isolated stack (own topic suffix, own free ports).
"""
