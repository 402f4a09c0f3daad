"""segviz.grading."""
