"""segviz.losses."""
