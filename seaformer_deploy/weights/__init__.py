"""Where a model's weights come from: official checkpoints, seeded random values, or the demo weights.

This package sits above ``models/`` (it knows the architecture, the architecture does not know it) and below
``seaformer_deploy.build.build_model``, which puts the two together.
"""
