/* layer_connected.h — accessors of the [connected] layer for other modules (tests). */
#ifndef DN_LAYER_CONNECTED_H
#define DN_LAYER_CONNECTED_H

#include "layers/layer_conv.h"

/* Fills *v for a connected layer with the same view a conv gives (n = outputs, nweights =
 * outputs * inputs, weights (outputs, inputs) row-major) and returns 0; -1 for any other kind.
 * The caller may write through the view: the folded inference BN is recomputed. */
int connected_get_view(struct layer *l, struct conv_view *v);

#endif
