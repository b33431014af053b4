"""Post-training quantization of exported models: one entry point per format, PyTorch not involved.

``quantize_tflite`` (ai-edge-quantizer) and ``quantize_onnx`` (onnxruntime) each read the fp32 file an exporter
wrote and write a quantized copy atomically, checked to load and to carry converted weights. TFLite int8 is made
from the fp32 ``.tflite`` because litert-torch's own PT2E int8 path fails on SeaFormer's layout pass. Why each
recipe is what it is, with the measurements behind it: ``docs/quantization.md``.
"""

from seaformer_deploy.export.quantize.common import QuantizationInfo, QuantMode
from seaformer_deploy.export.quantize.onnx import quantize_onnx
from seaformer_deploy.export.quantize.tflite import quantize_tflite

__all__ = ["QuantMode", "QuantizationInfo", "quantize_onnx", "quantize_tflite"]
