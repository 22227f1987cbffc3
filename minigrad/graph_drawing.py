"""``draw_graph``: a picture of the graph that ``backward()`` walks.

The picture is a Graphviz digraph with one box per tensor and one ellipse per
recorded ``Function`` call, edges pointing the way the data flows (inputs ->
function -> outputs). A tensor's box shows its name (when one is given), its
shape and dtype, its value when it holds a single number, and the norm of its
gradient once ``backward()`` has filled ``.grad``::

    loss = ((x @ W + b).relu() ** 2).mean()
    loss.backward()
    draw_graph(loss, names={"x": x, "W": W, "b": b})   # shown inline by Jupyter
    draw_graph(loss, path="graph.svg")                   # or written to a file

Box colours: blue for leaves that require grad (what backward computes
gradients for), grey dashed for constants, gold for the result itself.

Drawing needs the optional ``graphviz`` Python package (``pip install
minigrad[graph]``) and Graphviz's ``dot`` program (Debian/Ubuntu: ``apt-get
install graphviz``); both are looked for only when ``draw_graph`` is called,
so the rest of minigrad still depends on NumPy alone.
"""
import os
import shutil

import numpy as np

from .module import Module
from .tensor import Tensor, _topological_order
from .validation import check_choice

FORMATS = (".svg", ".png", ".pdf", ".dot", ".gv")
_LEAF_STYLE = {"style": "filled", "fillcolor": "lightblue"}
_CONSTANT_STYLE = {"style": "dashed", "color": "gray40", "fontcolor": "gray40"}
_ROOT_STYLE = {"style": "filled,bold", "fillcolor": "gold"}
_FUNCTION_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "gray90"}


def draw_graph(tensor, names=None, path=None, rankdir="LR"):
    """The autograd graph that produced ``tensor``, as a ``graphviz.Digraph``.

    Parameters
    ----------
    tensor : Tensor
        The result to draw (usually a scalar loss); every tensor and recorded
        ``Function`` call it depends on is drawn. A leaf gives a one-box graph.
    names : dict of {str: Tensor} or Module, optional
        Labels for tensors: a dict from name to tensor, or a ``Module`` whose
        parameters are labelled with their dotted names (``net.0.weight``).
    path : str or os.PathLike, optional
        Also write the picture to this file; its suffix picks the format:
        ``.svg``, ``.png``, ``.pdf``, or ``.dot``/``.gv`` for Graphviz source.
    rankdir : {"LR", "TB"}
        Lay the graph out left to right or top to bottom.

    Returns
    -------
    graphviz.Digraph
        Displays itself inline in Jupyter; ``.source`` is its DOT text and
        ``.render(...)``/``.pipe(format=...)`` produce files or bytes.

    Raises
    ------
    ImportError
        The ``graphviz`` Python package is not installed.
    RuntimeError
        Graphviz's ``dot`` program is not on the PATH.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: tensor must be a minigrad Tensor, got {type(tensor).__name__}")
    labels = _names(names)
    rankdir = check_choice("draw_graph", "rankdir", rankdir, ("LR", "TB"))
    suffix = _suffix(path)
    graphviz = _import_graphviz()
    graph = graphviz.Digraph("autograd", graph_attr={"rankdir": rankdir},
                             node_attr={"shape": "box", "fontname": "Helvetica", "fontsize": "11"})
    _build(graph, tensor, labels)
    if suffix is not None:
        data = graph.source.encode() if suffix in (".dot", ".gv") else graph.pipe(format=suffix[1:])
        with open(path, "wb") as f:
            f.write(data)
    return graph


def _import_graphviz():
    try:
        import graphviz
    except ImportError:
        raise ImportError("draw_graph needs the graphviz Python package: "
                          "pip install 'minigrad[graph]' (or pip install graphviz)") from None
    if shutil.which("dot") is None:
        raise RuntimeError("draw_graph needs Graphviz's `dot` program on the PATH: install Graphviz "
                           "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)")
    return graphviz


def _names(names):
    """``{id(tensor): name}`` from the ``names`` argument."""
    if names is None:
        return {}
    if isinstance(names, Module):
        return {id(p): name for name, p in names.named_parameters()}
    if not isinstance(names, dict):
        raise TypeError(f"draw_graph: names must be a dict of {{str: Tensor}} or a Module, "
                        f"got {type(names).__name__}")
    labels = {}
    for name, value in names.items():
        if not isinstance(name, str) or not isinstance(value, Tensor):
            raise TypeError(f"draw_graph: names must map str to Tensor, got {name!r}: "
                            f"{type(value).__name__}")
        labels[id(value)] = name
    return labels


def _suffix(path):
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"draw_graph: path must be a str or os.PathLike, got {type(path).__name__}")
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FORMATS:
        raise ValueError(f"draw_graph: path must end in one of {', '.join(FORMATS)}, got {os.fspath(path)!r}")
    return suffix


def _build(graph, root, labels):
    """Add every tensor and Function node of ``root``'s graph to ``graph``.

    The nodes come from the engine's own iterative topological sort, so a
    graph of any depth is drawn without recursion. A Function node does not
    keep its outputs; an output is known as a Tensor (for its name and
    gradient) when it is ``root`` or feeds a later node, and drawn from the
    node's recorded shape and dtype otherwise (an unused output).
    """
    nodes = _topological_order(root)[::-1] if root._node is not None else []  # producers first
    outputs = {(id(root._node), root._output_index): root} if root._node is not None else {}
    for node in nodes:
        for t in node.inputs:
            if t is not None and t._node is not None:
                outputs[(id(t._node), t._output_index)] = t
    ids = {}

    def tensor_id(t):
        key = ("leaf", id(t)) if t._node is None else ("out", id(t._node), t._output_index)
        if key not in ids:
            ids[key] = f"t{len(ids)}"
            style = _ROOT_STYLE if t is root else (
                (_LEAF_STYLE if t.requires_grad else _CONSTANT_STYLE) if t._node is None else {})
            graph.node(ids[key], _tensor_label(t, labels.get(id(t))), **style)
        return ids[key]

    if not nodes:
        tensor_id(root)
    for index, node in enumerate(nodes):
        fid = f"f{index}"
        graph.node(fid, node.function.__name__, **_FUNCTION_STYLE)
        for t in node.inputs:
            if t is not None:
                graph.edge(tensor_id(t), fid)
        for k in range(node.n_outputs):
            t = outputs.get((id(node), k))
            if t is not None:
                graph.edge(fid, tensor_id(t))
            else:
                tid = f"u{index}_{k}"
                label = _describe(node.output_shapes[k], node.output_dtypes[k]) + "\\n(unused)"
                graph.node(tid, label, **_CONSTANT_STYLE)
                graph.edge(fid, tid)


def _describe(shape, dtype):
    return f"{tuple(shape)} {np.dtype(dtype).name}"


def _tensor_label(t, name):
    lines = [] if name is None else [name.replace("\\", "\\\\").replace("\n", " ")]
    lines.append(_describe(t.shape, t.dtype))
    if t.size == 1:
        lines.append(f"value {t.data.item():.4g}")
    if t.grad is not None:
        lines.append(f"|grad| {np.linalg.norm(t.grad):.4g}")
    return "\\n".join(lines)
