"""Notifications, pure: who gets one for what (``rules``) and how a recipient's notifications,
position and read mark are laid out in a key-value store (``stored``).
"""
