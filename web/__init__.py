"""HTTP edge: request parsing, views, middleware. Importing it registers the views."""
