"""Helpers shared by the test modules (no tests here): the key-metrics fixture
(``key_metrics``), accessibility checks (``a11y``), the table headers of a tagged PDF
(``pdf_tables``), PDF text (``pdf_text``) and polling with a deadline (``polling``)."""
