"""tinygrad_fish: a tiny reverse-mode autodiff engine for the fish book."""
