"""segviz.metrics."""
