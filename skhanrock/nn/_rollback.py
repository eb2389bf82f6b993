"""The estimator's state before a training call, to put back when that call diverges.

A diverged ``fit`` or ``partial_fit`` raises
:class:`~skhanrock.exceptions.TrainingDivergedError`; the estimator is then
left as it was before the call, so that it never predicts from NaN weights.
"""

import copy

__all__ = ["restore", "snapshot"]


def snapshot(net, *, shallow=False):
    """What :func:`restore` needs to put ``net`` back as it is now.

    The attributes are kept as they are (``initialize`` replaces the
    module, criterion and optimizer rather than changing them), with copies
    of the history and the batch-order generator, and, unless ``shallow``,
    of what training changes in place: the weights and moments of the
    module, criterion and optimizer, and the grad scaler's state.
    """
    attributes = dict(vars(net))
    # skorch's initialize clears the history in place.
    copies = {name: copy.deepcopy(attributes[name]) for name in ("history_", "batch_order_rng_")
              if name in attributes}
    in_place = {}
    if not shallow:
        names = [name + "_" for name in (*net._modules, *net._criteria, *net._optimizers)]
        in_place = {name: copy.deepcopy(attributes[name].state_dict())
                    for name in (*names, "grad_scaler_")
                    if hasattr(attributes.get(name), "state_dict")}
    return {**attributes, **copies}, in_place


def restore(net, state):
    """Put ``net`` back as :func:`snapshot` found it; attributes added since are removed."""
    attributes, in_place = state
    vars(net).clear()
    vars(net).update(attributes)
    for name, value in in_place.items():
        attributes[name].load_state_dict(value)
