"""Bad input gets a clear error naming the op and the shapes; dtype rules hold."""
import numpy as np
import pytest

import minigrad as mg


def t(shape, dtype=np.float64):
    return mg.Tensor(np.ones(shape, dtype=dtype), requires_grad=True)


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3, 4), (2, 5, 6)), ((2, 2, 3), (3, 3, 4))],
)
def test_matmul_shape_mismatch_names_both_shapes(a_shape, b_shape):
    with pytest.raises(ValueError, match=rf"matmul.*{a_shape}.*{b_shape}".replace("(", r"\(").replace(")", r"\)")):
        t(a_shape) @ t(b_shape)


def test_matmul_rejects_scalars():
    with pytest.raises(ValueError, match="matmul"):
        t(()) @ t((3,))


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum"])
def test_non_broadcastable_shapes_name_the_op(op):
    fn = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "maximum": mg.maximum}[op]
    with pytest.raises(ValueError, match=rf"{op}: shapes \(2, 3\) and \(4,\)"):
        fn(t((2, 3)), t((4,)))


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "var"])
def test_reduction_over_missing_axis(op):
    with pytest.raises(ValueError, match=rf"{op}: axis must be in \[-2, 1\] for a tensor of 2 dimensions, got 2"):
        getattr(t((2, 3)), op)(axis=2)


def test_reshape_to_wrong_size():
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4, 2\)"):
        t((2, 3)).reshape(4, 2)


def test_concatenate_mismatched_shapes():
    with pytest.raises(ValueError, match=r"concatenate: tensor 1 has shape \(2, 4\)"):
        mg.concatenate([t((2, 3)), t((2, 4))], axis=0)


def test_index_out_of_range():
    with pytest.raises(IndexError, match=r"getitem.*\(2, 3\)"):
        t((2, 3))[5]


def test_where_needs_boolean_condition():
    with pytest.raises(TypeError, match="where: condition must be boolean"):
        mg.where(np.ones(3), t((3,)), t((3,)))


def test_var_needs_more_elements_than_ddof():
    with pytest.raises(ValueError, match="var: need more than ddof=1"):
        t((1, 3)).var(axis=0, ddof=1)


def test_python_scalars_and_lists_become_float32_by_default():
    assert mg.Tensor(1.5).dtype == np.float32
    assert mg.Tensor([1, 2, 3]).dtype == np.float32
    assert mg.Tensor(np.arange(3)).dtype == np.int64  # arrays keep their dtype


def test_set_default_dtype_changes_scalar_conversion():
    mg.set_default_dtype(np.float64)
    try:
        assert mg.Tensor(1.5).dtype == np.float64
    finally:
        mg.set_default_dtype(np.float32)
    with pytest.raises(TypeError, match="float32 or float64"):
        mg.set_default_dtype(np.int32)


def test_scalar_operands_keep_float32_tensors_float32():
    x = t((3,), np.float32)
    for y in (x * 2.0, x + 1, 2.0 / x, x ** 2, (x * 2.0).mean()):
        assert y.dtype == np.float32
    (x * 3.0).sum().backward()
    assert x.grad.dtype == np.float32


def test_float32_gradient_of_mixed_precision_op_is_cast_back():
    x32 = t((3,), np.float32)
    y64 = t((3,), np.float64)
    (x32 * y64).sum().backward()
    assert (x32 * y64).dtype == np.float64
    assert x32.grad.dtype == np.float32 and y64.grad.dtype == np.float64


def test_sigmoid_is_overflow_safe():
    x = mg.Tensor(np.array([-1000.0, 0.0, 1000.0]), requires_grad=True)
    with np.errstate(over="raise"):
        y = x.sigmoid()
        y.sum().backward()
    np.testing.assert_allclose(y.data, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(x.grad, [0.0, 0.25, 0.0])


def test_softmax_is_stable_for_huge_logits():
    x = mg.Tensor(np.array([[1000.0, 1000.0, -1000.0]]))
    np.testing.assert_allclose(x.softmax(axis=1).data, [[0.5, 0.5, 0.0]])
    np.testing.assert_allclose(x.log_softmax(axis=1).data[0, :2], np.log(0.5))


def test_max_ties_split_gradient_evenly():
    x = mg.Tensor(np.array([[3.0, 1.0, 3.0, 3.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[1 / 3, 0.0, 1 / 3, 1 / 3]])


def test_repeated_integer_indices_accumulate():
    x = mg.Tensor(np.arange(4.0), requires_grad=True)
    x[np.array([1, 1, 3, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 3.0, 0.0, 1.0])


def test_comparisons_return_boolean_tensors_without_grad():
    x = t((3,))
    mask = x > 0.5
    assert mask.dtype == np.bool_ and not mask.requires_grad
    assert (x == x).data.all()


def test_nan_propagates_through_every_elementwise_op(torch):
    x = np.array([np.nan, -1.0, 2.0])
    for name in ("relu", "sigmoid", "tanh"):
        ours = getattr(mg.Tensor(x), name)().data
        theirs = getattr(torch.tensor(x), name)().numpy()
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=name)
        np.testing.assert_allclose(ours[1:], theirs[1:], err_msg=name)


@pytest.mark.parametrize("op", ["relu", "sigmoid", "tanh", "softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float16, np.int64, np.bool_])
def test_elementwise_ops_refuse_non_float_tensors(op, dtype):
    with pytest.raises(TypeError, match=f"{op}: x must be float32 or float64, got dtype"):
        getattr(mg.Tensor(np.zeros(3, dtype=dtype)), op)()


def test_truth_value_of_a_multi_element_tensor_is_an_error():
    with pytest.raises(ValueError, match=r"truth value of a Tensor of shape \(2,\) is ambiguous"):
        bool(mg.Tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="ambiguous"):
        if mg.Tensor([1.0, 2.0]) == mg.Tensor([1.0, 2.0]):
            pass
    assert bool(mg.Tensor([3.0]) > 2) and not bool(mg.Tensor(0.0))


def test_parameter_membership_is_by_identity():
    a, b = mg.Parameter(np.zeros(3)), mg.Parameter(np.zeros(3))
    assert a in [a] and a in {a} and b not in {a}
    # Equal values are not the same parameter: a list test asks for ==, which is ambiguous.
    with pytest.raises(ValueError, match="ambiguous"):
        _ = a in [b]
    assert not any(p is a for p in [b])


def test_minigrad_imports_without_cycles():
    """Every module's intra-package imports form a DAG, so no import order can break them."""
    import ast
    import pathlib

    package = pathlib.Path(mg.__file__).parent
    graph = {}
    for path in package.glob("*.py"):
        if path.stem == "__init__":
            continue
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps |= {node.module} if node.module else {a.name for a in node.names}
        graph[path.stem] = deps
    state = {}

    def visit(name, trail):
        assert state.get(name) != "open", f"import cycle: {' -> '.join(trail + [name])}"
        if state.get(name) is None:
            state[name] = "open"
            for dep in graph.get(name, ()):
                visit(dep, trail + [name])
            state[name] = "done"

    for name in graph:
        visit(name, [])


@pytest.mark.parametrize("dtype", ["bogus", np.float16, np.int32, None])
def test_set_default_dtype_refuses_anything_but_float32_and_float64(dtype):
    with pytest.raises(TypeError, match="set_default_dtype: dtype must be float32 or float64, got"):
        mg.set_default_dtype(dtype)
    assert mg.get_default_dtype() == np.float32


@pytest.mark.parametrize("axis", [None, (0, 1), "1", 1.0, True])
def test_softmax_axis_must_be_one_integer(axis):
    for op in ("softmax", "log_softmax"):
        with pytest.raises(TypeError, match=f"{op}: axis must be an integer, got"):
            getattr(mg.Tensor(np.ones((2, 3))), op)(axis)


def test_python_lists_are_checked_as_the_tensor_they_become():
    from minigrad.validation import check_float_array, check_int_array, check_same_dtype

    assert check_float_array("f", "x", [[1, 2], [3, 4]]).dtype == mg.get_default_dtype()
    check_same_dtype("f", x=[1.0, 2.0], weight=np.zeros(2, np.float32))
    assert check_int_array("f", "target", [0, 2, 1]).dtype.kind == "i"  # labels stay integers
