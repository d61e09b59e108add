"""One GAN iteration on the TensorFlow backend: discriminator step (with lazy R1), then generator step.

Why TensorFlow-specific: R1 needs the gradient of D's output with respect to its *input* inside the loss
that is then differentiated again, and Keras 3 has no backend-neutral gradient API (its own trainers are
written once per backend). The networks, losses, bank and metrics are backend neutral; only this module is
not. TF is also the fastest backend on this CPU (STACK.md).
"""

from __future__ import annotations

import logging
from typing import Any

import keras

from stylegan_aug.losses import (
    discriminator_adversarial_loss,
    generator_adversarial_loss,
    r1_penalty,
    ssim_loss,
)

log = logging.getLogger(__name__)


class TFGANSteps:
    """Compiled D and G updates. Inputs are float32 NumPy or tensors; results are dicts of scalars.

    Lazy R1 (StyleGAN2): the penalty runs every ``r1_every`` D steps, scaled by ``r1_every`` so its
    average strength equals gamma. With ``generator_ema`` (same architecture), every G step also updates
    an exponential moving average of G's weights: StyleGAN's inference generator, smoother than G.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, g_optimizer: keras.Optimizer,
                 d_optimizer: keras.Optimizer, *, ssim_weight: float, r1_gamma: float, r1_every: int,
                 generator_ema: keras.Model | None = None, eager: bool = False) -> None:
        if keras.backend.backend() != "tensorflow":
            msg = (f"StyleGAN training needs the TensorFlow backend (R1 takes a gradient of a gradient). "
                   f"Received: KERAS_BACKEND={keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow")
            raise RuntimeError(msg)
        import tensorflow as tf

        self.tf = tf
        self.generator, self.discriminator = generator, discriminator
        self.generator_ema = generator_ema
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.ssim_weight = float(ssim_weight)
        self.r1_gamma = float(r1_gamma)
        self.r1_every = int(r1_every)
        # Variables exist before the first traced call: tf.function must not create them.
        g_optimizer.build(generator.trainable_variables)
        d_optimizer.build(discriminator.trainable_variables)
        wrap = (lambda f: f) if eager else tf.function
        self._d_plain = wrap(lambda *a: self._d_update(*a, with_r1=False))
        self._d_r1 = wrap(lambda *a: self._d_update(*a, with_r1=True))
        self._g = wrap(self._g_update)

    def _d_update(self, source, real, z, domain, noise, *, with_r1: bool) -> dict[str, Any]:
        tf = self.tf
        fake = self.generator([source, z, domain, noise], training=True)
        with tf.GradientTape() as tape:
            penalty = tf.constant(0.0)
            if with_r1:
                with tf.GradientTape() as input_tape:
                    input_tape.watch(real)
                    real_logits = self.discriminator([real, domain], training=True)
                    total = tf.reduce_sum(real_logits)
                grads = input_tape.gradient(total, real)
                penalty = r1_penalty(grads, self.r1_gamma) * self.r1_every
            else:
                real_logits = self.discriminator([real, domain], training=True)
            fake_logits = self.discriminator([fake, domain], training=True)
            adversarial = discriminator_adversarial_loss(real_logits, fake_logits)
            loss = adversarial + penalty
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return {"d_loss": adversarial, "r1": penalty / self.r1_every,
                "d_real": tf.reduce_mean(real_logits), "d_fake": tf.reduce_mean(fake_logits)}

    def _g_update(self, source, z, domain, noise, ema_beta) -> dict[str, Any]:
        tf = self.tf
        with tf.GradientTape() as tape:
            fake = self.generator([source, z, domain, noise], training=True)
            fake_logits = self.discriminator([fake, domain], training=True)
            adversarial = generator_adversarial_loss(fake_logits)
            structure = ssim_loss(source, fake, self.ssim_weight)
            loss = adversarial + structure
        variables = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        if self.generator_ema is not None:
            for average, value in zip(self.generator_ema.weights, self.generator.weights, strict=True):
                average.assign(ema_beta * average + (1.0 - ema_beta) * value)
        ssim_value = 1.0 - structure / self.ssim_weight if self.ssim_weight else tf.constant(float("nan"))
        return {"g_loss": adversarial, "ssim": ssim_value}

    def discriminator_step(self, source, real, z, domain, noise, step: int) -> dict[str, float]:
        tf = self.tf
        args = [tf.convert_to_tensor(a) for a in (source, real, z, domain, noise)]
        fn = self._d_r1 if self.r1_gamma > 0 and step % self.r1_every == 0 else self._d_plain
        return {k: float(v) for k, v in fn(*args).items()}

    def generator_step(self, source, z, domain, noise, ema_beta: float = 0.0) -> dict[str, float]:
        tf = self.tf
        args = [tf.convert_to_tensor(a) for a in (source, z, domain, noise)]
        args.append(tf.constant(ema_beta, tf.float32))
        return {k: float(v) for k, v in self._g(*args).items()}
