"""Simulated Android phones for the adb tests: fake_adb.py (the adb CLI, several serials each with its own file
system), device_tools.py (getprop, dumpsys, df on the phone), fake_benchmark_model.py (TFLite/LiteRT's
benchmark_model; generations.py the builds it can be, profile_tables.py its statistics and tables) and phone.py
(config, file system, thermal model, helpers). phone.py's docstring describes how it all fits together."""
