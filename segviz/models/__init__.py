"""segviz.models."""
