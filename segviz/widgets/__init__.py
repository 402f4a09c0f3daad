"""segviz.widgets."""
