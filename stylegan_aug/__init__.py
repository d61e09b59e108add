"""StyleGAN stain and scanner transfer (paper section "StyleGAN Augmentations", Eq. 2).

A StyleGAN2-style generator (source-patch encoder + style-modulated decoder with per-layer noise) maps
patches of one data source or scanner to the colours of another; an SSIM loss on luminance keeps the tissue
structure. ``stylegan_aug.bank.load_bank(path)`` gives the callable that ``PairedAugment.attach_style_bank``
takes (the ``gan`` preset, p = 0.3). Modules import Keras lazily where they can: import has no side effects.
"""
