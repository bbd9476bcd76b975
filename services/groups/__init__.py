"""Group chats (issue 15): groups, memberships, messages and their moderation."""
