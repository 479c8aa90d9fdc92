"""Township reports as input: read the document (``documents``), extract its figures (``extract``), score the
extractor on a folder of reports with gold figures (``evaluate``). No Streamlit here."""
