/* mdl/image.h — pictures a person can look at: input images above what an
 * autoencoder makes of them, as a grayscale PNG. */
#ifndef MDL_IMAGE_H
#define MDL_IMAGE_H

#include "mdl/base.h"

/* The picture's layout, in pixels: a light gray page (gray level PAGE:
 * neither an image's black nor its white, so a tile's edge shows either
 * way) with MARGIN around; two rows, each a label ("inputs",
 * "reconstructions": black letters LABEL pixels tall, LABEL_GAP above the
 * row's first tile) and then the tiles, TILE_GAP apart; ROW_GAP between the
 * rows. */
enum {
  MDL_IMAGE_PAGE = 224,
  MDL_IMAGE_MARGIN = 8,
  MDL_IMAGE_LABEL = 18,
  MDL_IMAGE_LABEL_GAP = 4,
  MDL_IMAGE_TILE_GAP = 4,
  MDL_IMAGE_ROW_GAP = 12
};

/* How many times larger each pixel is drawn (nearest neighbour) for
 * images whose longer side is side pixels: about 96 pixels a tile, 1 to
 * 16 times; 3 for 28 × 28 (MNIST), 1 for 100 × 100. */
int mdl_image_scale(int side);

/* Writes a PNG of two rows of n_images tiles, the images width × height
 * pixels drawn mdl_image_scale(max(width, height)) times larger: the top
 * row the inputs, the bottom row the outputs (both n_images × (width *
 * height) row-major arrays of the given type), laid out as above. Each
 * pair of tiles is drawn with the same gray scale: [0, 1] when the input
 * lies in it (pixel intensities, such as CURVES and MNIST), else the
 * input's own minimum and maximum (standardized data such as FACES);
 * values outside the scale are clipped. */
int mdl_save_image_pairs(const char *path, const void *inputs,
                         const void *outputs, mdl_dtype type, int n_images,
                         int width, int height, mdl_error *err);

#endif
