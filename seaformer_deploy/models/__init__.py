"""SeaFormer models: variants, backbone, heads, the architecture by name, and the deploy transforms.

Weights (checkpoints, random, demo) live in ``seaformer_deploy.weights``; ``seaformer_deploy.build_model`` puts
architecture and weights together. Kept empty of imports on purpose: importing one module of the package (the
variants' numbers, say) must not load torch through the others.
"""
