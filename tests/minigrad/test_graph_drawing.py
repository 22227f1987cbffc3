"""draw_graph: the nodes and edges drawn, the labels, files written, and its install errors."""
import re
import sys

import numpy as np
import pytest

import minigrad as mg


def parse(graph):
    """``({node id: label}, [(tail, head), ...])`` from a digraph's DOT source."""
    nodes, edges = {}, []
    for line in graph.body:
        edge = re.match(r"\s*(\w+) -> (\w+)", line)
        if edge:
            edges.append(edge.groups())
            continue
        node = re.match(r'\s*(\w+) \[label=("(?:[^"\\]|\\.)*"|\w+)', line)
        assert node, f"unparsed line {line!r}"
        nodes[node.group(1)] = node.group(2).strip('"')
    return nodes, edges


def functions(nodes):
    return sorted(label for key, label in nodes.items() if key.startswith("f"))


def affine_relu_sum():
    x = mg.Tensor(np.arange(6.0).reshape(2, 3) - 2.5, requires_grad=True)
    weight = mg.Tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    bias = mg.Tensor(np.full(4, 0.1), requires_grad=True)
    return x, weight, bias, (x @ weight + bias).relu().sum()


def test_known_expression_has_one_node_per_tensor_and_function():
    x, weight, bias, loss = affine_relu_sum()
    nodes, edges = parse(mg.draw_graph(loss))
    assert functions(nodes) == ["Add", "MatMul", "ReLU", "Sum"]
    # x, weight, bias, x @ weight, + bias, relu, sum
    assert sum(key.startswith("t") for key in nodes) == 7
    assert len(edges) == 10  # 2 + 2 inputs, 4 outputs
    by_label = {label: key for key, label in nodes.items()}
    assert (by_label["MatMul"], by_label["Add"]) not in edges  # always through a tensor
    # Data-flow direction: the loss is only ever a head, a leaf only ever a tail.
    heads = {head for _, head in edges}
    tails = {tail for tail, _ in edges}
    root = next(key for key, label in nodes.items() if "value" in label)
    assert root in heads and root not in tails
    leaves = [key for key, label in nodes.items() if label.startswith("(2, 3)")]
    assert len(leaves) == 1 and leaves[0] in tails and leaves[0] not in heads


def test_names_shapes_and_dtype_are_shown():
    x, weight, bias, loss = affine_relu_sum()
    nodes, _ = parse(mg.draw_graph(loss, names={"x": x, "weight": weight, "bias": bias}))
    labels = set(nodes.values())
    assert r"x\n(2, 3) float64" in labels
    assert r"weight\n(3, 4) float64" in labels
    assert r"bias\n(4,) float64" in labels


def test_module_parameters_are_named_by_their_dotted_names():
    class Net(mg.Module):
        def __init__(self):
            super().__init__()
            self.weight = mg.Parameter(np.ones((3, 2)))

        def forward(self, x):
            return (x @ self.weight).sum()

    net = Net()
    nodes, _ = parse(mg.draw_graph(net(mg.Tensor(np.ones((1, 3)))), names=net))
    assert any(label.startswith(r"weight\n(3, 2)") for label in nodes.values())


def test_gradient_norms_appear_after_backward():
    x, weight, bias, loss = affine_relu_sum()
    before, _ = parse(mg.draw_graph(loss))
    assert not any("grad" in label for label in before.values())
    loss.backward()
    after, _ = parse(mg.draw_graph(loss, names={"x": x, "weight": weight, "bias": bias}))
    for name, t in (("x", x), ("weight", weight), ("bias", bias)):
        label = next(label for label in after.values() if label.startswith(name + "\\n"))
        shown = float(re.search(r"\|grad\| (\S+)", label).group(1))
        assert shown == pytest.approx(np.linalg.norm(t.grad), rel=1e-3)
    # Intermediate tensors keep no gradient, so none is shown for them.
    assert sum("|grad|" in label for label in after.values()) == 3


def test_reused_tensor_is_one_node_with_an_edge_per_use():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    a = x * 3.0
    y = (a * a).sum()
    nodes, edges = parse(mg.draw_graph(y))
    assert functions(nodes) == ["Mul", "Mul", "Sum"]
    # x, the constant 3, a, a * a, the sum
    assert sum(key.startswith("t") for key in nodes) == 5
    square = [key for key, label in nodes.items() if label == "Mul"]
    into = [tail for tail, head in edges if head in square]
    assert len(into) == 4 and max(into.count(t) for t in set(into)) == 2


def test_unused_output_of_a_multi_output_function_is_drawn():
    def split_forward(x):
        return (x[:1], x[1:]), None

    def split_backward(dout, cache):
        return np.concatenate(dout)

    split = mg.Function.from_pair(split_forward, split_backward, name="Split")
    first, _ = split.apply(mg.Tensor(np.arange(3.0), requires_grad=True))
    nodes, edges = parse(mg.draw_graph(first.sum()))
    unused = [key for key, label in nodes.items() if "unused" in label]
    assert len(unused) == 1 and nodes[unused[0]].startswith("(2,) float64")
    split_id = next(key for key, label in nodes.items() if label == "Split")
    assert sum(tail == split_id for tail, _ in edges) == 2


def test_a_leaf_alone_is_one_box():
    nodes, edges = parse(mg.draw_graph(mg.Tensor(np.zeros((2, 2)), requires_grad=True)))
    assert list(nodes.values()) == ["(2, 2) float64"] and edges == []


def test_10k_node_chain_is_drawn_without_recursion():
    x = mg.Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 150)  # room for the drawing's own calls, far below the chain's depth
    try:
        nodes, edges = parse(mg.draw_graph(y))
    finally:
        sys.setrecursionlimit(limit)
    assert len(functions(nodes)) == 10_000
    assert len(nodes) == 10_000 + 10_000 + 10_000 + 1  # functions, constants, outputs, x
    assert len(edges) == 3 * 10_000


@pytest.mark.parametrize("suffix", [".svg", ".png", ".dot"])
def test_picture_is_written_by_the_path_suffix(tmp_path, suffix):
    *_, loss = affine_relu_sum()
    path = tmp_path / f"graph{suffix}"
    graph = mg.draw_graph(loss, path=path)
    data = path.read_bytes()
    if suffix == ".svg":
        svg = data.decode()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert svg.count('class="node"') == 11 and svg.count('class="edge"') == 10
    elif suffix == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
    else:
        assert data.decode() == graph.source


def test_digraph_renders_inline_as_svg():
    *_, loss = affine_relu_sum()
    bundle = mg.draw_graph(loss)._repr_mimebundle_()  # what Jupyter calls to display it
    assert "<svg" in bundle["image/svg+xml"]


def test_missing_dot_program_is_a_one_line_runtime_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no `dot` anywhere
    *_, loss = affine_relu_sum()
    with pytest.raises(RuntimeError, match=r"`dot` program.*apt-get install graphviz") as info:
        mg.draw_graph(loss)
    assert "\n" not in str(info.value)


def test_missing_python_package_is_a_one_line_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    *_, loss = affine_relu_sum()
    with pytest.raises(ImportError, match=r"minigrad\[graph\]") as info:
        mg.draw_graph(loss)
    assert "\n" not in str(info.value) and info.value.__cause__ is None


@pytest.mark.parametrize("kwargs, error, message", [
    ({"tensor": np.ones(3)}, TypeError, "draw_graph: tensor must be a minigrad Tensor, got ndarray"),
    ({"names": ["x"]}, TypeError, "draw_graph: names must be a dict"),
    ({"names": {"x": np.ones(2)}}, TypeError, "draw_graph: names must map str to Tensor, got 'x': ndarray"),
    ({"path": "graph.jpg"}, ValueError, r"draw_graph: path must end in one of \.svg"),
    ({"path": 3}, TypeError, "draw_graph: path must be a str or os.PathLike, got int"),
    ({"rankdir": "RL"}, ValueError, "draw_graph: rankdir must be one of"),
])
def test_bad_arguments_name_the_function_and_argument(kwargs, error, message):
    args = {"tensor": mg.Tensor(np.ones(2), requires_grad=True).sum(), **kwargs}
    with pytest.raises(error, match=message):
        mg.draw_graph(**args)
