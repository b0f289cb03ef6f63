"""Part 3's training step, which the notebook writes here from its own functions."""

import tensorflow as tf


def squared_errors(y, y_pred):
    """The squared error of each example; refuses shapes that would broadcast."""
    if y.shape != y_pred.shape:
        raise ValueError(f"y has shape {y.shape} but y_pred has {y_pred.shape}; they would broadcast.")
    return tf.square(y - tf.cast(y_pred, y.dtype))  # a float16 prediction (mixed precision) in y's float32


def average_loss(model, x, y, loss_fn=squared_errors, global_batch_size=None, training=False):
    """In each replica, or with no strategy: loss_fn's losses averaged over the global batch, plus penalties."""
    if global_batch_size is None:  # count every replica's examples: each batch's own mean, even a short one
        examples = tf.distribute.get_replica_context().all_reduce("SUM", tf.cast(tf.shape(y)[0], tf.float32))
        global_batch_size = tf.cast(examples, tf.int64)  # summed as a float, which every all-reduce accepts
    loss = tf.nn.compute_average_loss(loss_fn(y, model(x, training=training)), global_batch_size=global_batch_size)
    if getattr(model, "losses", None):  # a tf.Module has no losses
        loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
    return loss


def make_train_step(model, optimizer, loss_fn=squared_errors, global_batch_size=None):
    """The training step for this model and optimizer: the loss under a tape, its gradients, an update."""
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = average_loss(model, x, y, loss_fn, global_batch_size, training=True)
            scaled = optimizer.scale_loss(loss)  # times the loss scale under mixed precision (Part 4), else the loss
        optimizer.apply(tape.gradient(scaled, model.trainable_variables), model.trainable_variables)
        return loss

    return train_step
