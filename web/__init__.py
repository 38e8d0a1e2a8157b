"""web — the Lune Academy portal (Flask) and the root of the `lune` command line."""
