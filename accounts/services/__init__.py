"""Every change to users, profiles and partner API clients goes through a function here."""
