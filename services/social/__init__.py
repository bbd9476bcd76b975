"""The social service: creator identities, profiles, track records, follows, notifications."""
