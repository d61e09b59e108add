"""ONNX export of a hookseg model through tf2onnx, for onnxruntime, QuPath's DJL engine and other runtimes.

Not ``model.export(format="onnx")``: on Keras 3.15 / tf2onnx 1.17 that path fails on hookseg's models three
ways. It refuses a functional model never called (one just built or loaded); it hands
``tf2onnx.from_function`` every non-resource capture as a graph input, so the EfficientNet encoders'
Normalization mean and variance become required inputs; and it names an ONNX output ``context`` like the
m-UNet's ``context`` input, which ONNX cannot hold (a value has one name per graph). Here the graph is frozen
first (variables and captured constants become constants), converted with ``tf2onnx.convert.from_graph_def``
with named inputs, and an output whose Keras name is also an input name gets ``_output`` appended.

tf2onnx 1.17 runs on NumPy 2 for this path without Keras' ``patch_tf2onnx``: its NumPy-1 calls left
(``np.product``, removed in NumPy 2) are in ``Node.get_value_attr`` for ``large_model`` exports (> 2 GB,
which hookseg's models never are) and in the tfjs reader.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hookseg.errors import ConfigError

ONNX_FILE = "model.onnx"
OPSET = 17  # pinned, so an export does not change with the tf2onnx default


def output_names(model: Any) -> dict[str, str]:
    """Keras output name -> ONNX output name: unchanged unless an input already has that name."""
    inputs = {t.name.split(":")[0] for t in model.inputs}
    keys = list(model.output) if isinstance(model.output, dict) else ["final"]
    return {k: f"{k}_output" if k in inputs else k for k in keys}


def write_onnx(model: Any, path: Path) -> dict[str, str]:
    """Convert ``model`` (TF backend) to ONNX at ``path``: float32 NHWC inputs with a dynamic batch named
    ``batch``. Returns the Keras -> ONNX output names."""
    import keras

    if keras.backend.backend() != "tensorflow":
        msg = (f"--format onnx: converts TensorFlow graphs (tf2onnx); expected KERAS_BACKEND=tensorflow. "
               f"Received: {keras.backend.backend()!r}")
        raise ConfigError(msg)
    try:
        import onnx
        import tf2onnx
    except ImportError as err:
        msg = f"--format onnx: needs tf2onnx and onnx ({err}); install them with `pip install -e '.[onnx]'`"
        raise ConfigError(msg) from None
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    names = output_names(model)
    specs = {t.name.split(":")[0]: tf.TensorSpec((None, *t.shape[1:]), tf.float32, name=t.name.split(":")[0])
             for t in model.inputs}

    @tf.function
    def serve(inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        out = model(inputs, training=False)
        return {names[k]: v for k, v in (out if isinstance(out, dict) else {"final": out}).items()}

    concrete = serve.get_concrete_function(specs)
    frozen = convert_variables_to_constants_v2(concrete)  # captured constants too, not only variables
    position = {t.name: i for i, t in enumerate(concrete.outputs)}
    rename = {t.name: t.name.split(":")[0] for t in frozen.inputs}
    rename.update({frozen.outputs[position[t.name]].name: k for k, t in concrete.structured_outputs.items()})
    with _quiet():
        proto, _ = tf2onnx.convert.from_graph_def(
            frozen.graph.as_graph_def(), name="hookseg", input_names=[t.name for t in frozen.inputs],
            output_names=[t.name for t in frozen.outputs], tensors_to_rename=rename, opset=OPSET)
    for value in [*proto.graph.input, *proto.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_param = "batch"  # tf2onnx writes unk__N for each
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    return names


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """tf2onnx logs every rewriter and TF deprecation at INFO/WARNING; the CLI logs at INFO."""
    loggers = [logging.getLogger(n) for n in ("tf2onnx", "tensorflow")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
