"""The web tier's plumbing around Dash: health routes, page registry, index page, wording."""
