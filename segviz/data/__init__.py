"""segviz.data."""
