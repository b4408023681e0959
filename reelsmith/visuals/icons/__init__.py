"""The icons look: an OpenMoji icon per sentence (``matching``), a palette
from the topic's icon (``palette``), icons in time (``track``) and drawn
on a calm field (``drawing``). The ``icons`` visual source picks them."""
