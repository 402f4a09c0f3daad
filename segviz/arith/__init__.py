"""segviz.arith."""
