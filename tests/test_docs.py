"""The examples in every activation's and method's docstring run, as doctests."""
import doctest

import pytest

import fastact as fa

pytest.importorskip("pandas")
pytestmark = pytest.mark.usefixtures("backend")


@pytest.mark.parametrize("name", sorted(n for n, a in fa.activations.items() if n == a.name))
def test_docstring_examples_run(name):
    act = fa.get(name)
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    docs = {name: act.__doc__}
    methods = ("grad", "value_and_grad", "backward") + (("grad2",) if act.second else ()) + (
        ("grad_from_output", "backward_from_output") if act.from_output else ())
    docs.update({f"{name}.{m}": getattr(act, m).__doc__ for m in methods})
    for where, doc in docs.items():
        assert "Parameters\n----------" in doc and "Examples\n--------" in doc
        test = parser.get_doctest(doc, {}, where, None, 0)
        assert test.examples
        result = runner.run(test)
        assert result.failed == 0, where


def test_numpydoc_lists_every_parameter():
    for act in set(fa.activations.values()):
        for doc in (act.__doc__, act.grad.__doc__, act.backward.__doc__):
            for p in act.params:
                assert f"\n{p.name} : float, default {p.default!r}\n" in doc

