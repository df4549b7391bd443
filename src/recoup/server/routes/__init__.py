"""HTTP routes, one module per surface; `recoup.server.app` mounts each module's ``router``."""
