"""segviz.train."""
