"""segviz.ops."""
