"""Datasets: the validator (`validator`), what it reports (`report`), the compiled rules of
one model (`rules`) and the data formats, one module each (`formats/`)."""
