"""segviz.viz."""
