"""Projects: list, create from the template gallery, settings, members, import and media."""
