"""TFLite / LiteRT ``benchmark_model``: its log parsed (``parser``, types in ``log``), turned into launches and
op profiles (``convert``), and a log someone ran by hand imported as a bench report (``import_log``)."""
