"""A simulated Android phone for the adb tests: fake_adb.py (the adb CLI), device_tools.py (getprop,
dumpsys, df on the phone), fake_benchmark_model.py (TFLite's benchmark_model) and phone.py (config,
file system, thermal model, helpers). phone.py's docstring describes how it all fits together."""
